"""Platform adapters, registered by platform name (dispatch by name, not by if/elif)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ADAPTERS: dict[str, Callable[[], Any]] = {}


def register_adapter(name: str, factory: Callable[[], Any]) -> None:
    ADAPTERS[name] = factory


def adapter_get(*, platform: str) -> Any:
    """A new adapter for `platform`; KeyError with a clear message when none is registered."""
    try:
        factory = ADAPTERS[platform]
    except KeyError:
        raise KeyError(f"no crawler adapter for platform {platform!r}") from None
    return factory()


def _douyin() -> Any:
    from crawler.platforms.douyin.adapter import DouyinAdapter

    return DouyinAdapter()


register_adapter("douyin", _douyin)

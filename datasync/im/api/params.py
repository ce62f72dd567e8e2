"""Query parameter parsing for the IM list routes: a 400 names the parameter.

The serializers in ``serializers.py`` document the same parameters for the OpenAPI schema; parsing is
done here by hand because a DRF serializer costs more per request than the store query it guards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from datasync.im.api.serializers import MAX_LIMIT
from datasync.store import StoreQueryError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def query_int(
    q: Mapping[str, Any], name: str, *, default: int | None = None, low: int = 1, high: int | None = None
) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        if default is None:
            raise StoreQueryError(name, "this parameter is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StoreQueryError(name, "must be an integer") from None
    if value < low or (high is not None and value > high):
        raise StoreQueryError(
            name, f"must be between {low} and {high}" if high else f"must be at least {low}"
        )
    return value


def query_str(q: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    raw = q.get(name)
    if raw is None or raw == "":
        if required:
            raise StoreQueryError(name, "this parameter is required")
        return None
    return str(raw)


def query_choice(q: Mapping[str, Any], name: str, *, choices: Sequence[str], default: str) -> str:
    raw = q.get(name) or default
    if raw not in choices:
        raise StoreQueryError(name, f"must be one of {', '.join(choices)}")
    return str(raw)


def query_bool(q: Mapping[str, Any], name: str, *, default: bool = False) -> bool:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    lowered = str(raw).lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise StoreQueryError(name, "must be true or false")


def page_params(q: Mapping[str, Any]) -> dict[str, Any]:
    """``account_id`` (required), ``cursor`` and ``limit`` (1..100, default 20)."""
    return {
        "account_id": query_int(q, "account_id"),
        "cursor": query_str(q, "cursor", required=False),
        "limit": query_int(q, "limit", default=20, high=MAX_LIMIT),
    }

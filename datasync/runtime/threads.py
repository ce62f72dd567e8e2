"""The runtime's work off the event loop: Django's connection housekeeping around each call made in a
thread, and the periodic jobs of the wiring (each `fn()` in a thread every `interval` seconds)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections

logger = logging.getLogger("datasync.runtime")


def with_connections(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` with Django's stale connections closed before and after it (a call in a thread)."""

    def run() -> Any:
        close_old_connections()
        try:
            return fn()
        finally:
            close_old_connections()

    return run


async def every(fn: Callable[[], Any], interval: float) -> None:
    """Run sync `fn` in a thread every `interval` seconds until cancelled; a failure is logged, and the
    next round runs anyway."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(with_connections(fn))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("periodic job %s failed", getattr(fn, "__qualname__", fn))

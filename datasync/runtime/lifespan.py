"""Starting and stopping this process's runtime with the ASGI server: at the lifespan's start-up
(uvicorn, granian), or on the first HTTP request or WebSocket under a server without one (daphne); at
shutdown the start-up snapshot is written and the runtime's tasks stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from datasync.runtime.process import runtime
from datasync.runtime.threads import with_connections

logger = logging.getLogger("datasync.runtime")

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def runtime_asgi_wrapper(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: start this process's runtime at server start-up (ASGI lifespan: uvicorn,
    granian) or else on the first HTTP request or WebSocket (daphne sends no lifespan events)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] in ("http", "websocket") and not runtime.started:
            try:
                await runtime.start()
            except Exception:
                logger.exception("datasync runtime failed to start")
        await app(scope, receive, send)

    return wrapped


async def _lifespan(receive: Any, send: Any) -> None:
    """Start loading the store at start-up (serving begins at once: reads wait for the load or go to
    Django, which waits); stop the runtime's tasks at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await runtime.start()
            except Exception as exc:
                logger.exception("datasync runtime failed to start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await asyncio.to_thread(with_connections(runtime.snapshot_save))
            except Exception:
                logger.exception("writing the DataStore snapshot at shutdown failed")
            with contextlib.suppress(Exception):
                await runtime.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return

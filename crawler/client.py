"""WebSocket client to the hub's `/ws/worker/`: reconnect with jittered backoff, Bearer token auth.

A hub that is down (at start or later) is waited for, never a crash. The token comes from the
environment (`IMHUB_WORKER_TOKEN`) and is never logged. Frames are parsed with `datasync.protocol`
and handed to `on_frame`; `on_connect` runs after each (re)connect, before frames are read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import websockets
from websockets.asyncio.client import ClientConnection, connect

from datasync.protocol import BaseFrame, ProtocolError, dump_frame, parse_frame

logger = logging.getLogger("crawler.client")

AUTH_FAILED = 4401
CONNECTION_TAKEN = 4409  # another live connection holds this worker's token
# A frame longer than this goes out as a fragmented message (256 Ki characters: at most 1 MiB of UTF-8
# per WebSocket frame). Servers limit single frames more tightly than whole messages (granian resets a
# frame over 16 MiB before the hub sees it), so a frame over the hub's limit still reaches the hub and
# is answered with `master:error frame_too_large` instead of a dropped connection.
FRAGMENT_CHARS = 256 * 1024


def backoff_delay(*, attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter between half and the whole step (attempt counts from 0)."""
    step = min(cap, base * (2**attempt))
    return step * random.uniform(0.5, 1.0)


class HubClient:
    """One logical connection to the hub that survives disconnects."""

    def __init__(
        self,
        *,
        hub_url: str,
        token: str,
        on_frame: Callable[[BaseFrame], Awaitable[None]],
        on_connect: Callable[[], Awaitable[None]],
        on_disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.url = hub_url.rstrip("/") + "/ws/worker/"
        self._token = token
        self.on_frame = on_frame
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.ws: ClientConnection | None = None
        self.connected = asyncio.Event()
        self.connects = 0
        self.stopping = False

    async def send(self, frame: BaseFrame) -> bool:
        """Send one frame; False when not connected (durable data stays in the outbox)."""
        ws = self.ws
        if ws is None:
            return False
        text = dump_frame(frame)
        try:
            if len(text) > FRAGMENT_CHARS:
                await ws.send([text[i : i + FRAGMENT_CHARS] for i in range(0, len(text), FRAGMENT_CHARS)])
            else:
                await ws.send(text)
        except websockets.ConnectionClosed:
            return False
        return True

    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                async with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self._token}"},
                    max_size=None,
                    open_timeout=10,
                    ping_interval=20,
                    ping_timeout=20,
                ) as ws:
                    self.ws = ws
                    self.connects += 1
                    attempt = 0
                    logger.info("connected to hub %s (connection %d)", self.url, self.connects)
                    self.connected.set()
                    await self.on_connect()
                    await self._read(ws)
                    code = ws.close_code
                    if code == AUTH_FAILED:
                        logger.error("hub refused the worker token (close 4401); check IMHUB_WORKER_TOKEN")
                        attempt = 6
                    elif code == CONNECTION_TAKEN:
                        logger.error(
                            "hub refused this connection (close 4409): another live connection holds this "
                            "worker's token; is a second worker running with the same token?"
                        )
                        attempt = max(attempt, 3)
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                logger.warning("hub %s unreachable: %s", self.url, exc.__class__.__name__ + f": {exc}")
            finally:
                if self.ws is not None:
                    self.ws = None
                    self.connected.clear()
                    if self.on_disconnect is not None:
                        await self.on_disconnect()
            if self.stopping:
                break
            delay = backoff_delay(attempt=attempt)
            attempt += 1
            logger.info("reconnecting to hub in %.1fs", delay)
            await asyncio.sleep(delay)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                frame = parse_frame(raw)
            except ProtocolError as exc:
                logger.error("hub sent a frame this worker cannot read: %s", exc)
                continue
            try:
                await self.on_frame(frame)
            except Exception:
                logger.exception("handling %s from the hub failed", frame.type)  # type: ignore[attr-defined]

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()

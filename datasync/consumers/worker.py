"""`WorkerConsumer` at `/ws/worker/`: transport only.

Authenticates the handshake (`Authorization: Bearer <token>`, else accept-then-close 4401), parses each
text frame with `parse_frame`, runs `handlers.frame_handle` in a worker thread (never on the event
loop, and not on Django's single shared sync thread, so one worker's database work never delays
another's heartbeats), sends the outcome, and turns every error into `master:error`.
Frames of one connection are applied strictly in order by one processing task per connection.
Commands sent to the worker's group by `accounts.commands` go down as hub frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from datasync import handlers, stats
from datasync.protocol import BaseFrame, ErrorCode, ProtocolError, dump_frame, error_frame, parse_frame

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401
QUEUE_FRAMES = 16


def _in_thread(fn: Any) -> Any:
    """Run sync `fn` in the thread pool with Django's connection housekeeping."""
    return database_sync_to_async(fn, thread_sensitive=False)


def _bearer_token(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            text = value.decode("latin-1").strip()
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    return ""


class WorkerConsumer(AsyncWebsocketConsumer):
    """One crawler worker's connection."""

    session: handlers.WorkerSession | None = None
    group: str | None = None
    _queue: asyncio.Queue[BaseFrame] | None = None
    _processor: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        from accounts.services import worker_authenticate

        token = _bearer_token(self.scope)
        worker = await _in_thread(worker_authenticate)(token=token) if token else None
        await self.accept()
        if worker is None:
            stats.stats_auth_failed()
            client = self.scope.get("client") or ("?", 0)
            logger.warning(
                "worker authentication failed from %s (token %s)", client[0], "given" if token else "missing"
            )
            await self.close(code=UNAUTHORIZED)
            return
        self.session = handlers.WorkerSession(worker=worker)
        stats.stats_socket_opened(worker_id=self.session.worker_id)
        logger.info("worker %s connected", self.session.worker_id)

    async def disconnect(self, code: int) -> None:
        if self._processor is not None:
            self._processor.cancel()  # queued frames were not acked: the worker resends them
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._processor
        if self.session is None:
            return
        from accounts.services import worker_disconnect

        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        stats.stats_socket_closed(worker_id=self.session.worker_id)
        try:
            await _in_thread(worker_disconnect)(worker=self.session.worker)
        except Exception:
            logger.exception("worker_disconnect failed for worker %s", self.session.worker_id)
        logger.info("worker %s disconnected (code %s)", self.session.worker_id, code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Parse on the event loop, then queue: the next frame is parsed while the previous one is
        being applied in a thread (SQLite and PostgreSQL I/O release the GIL). A frame that does not
        parse is answered at once, so its `master:error` may overtake acks of earlier frames."""
        if self.session is None:
            return  # unauthenticated socket being closed: read nothing
        raw = text_data if text_data is not None else (bytes_data or b"")
        try:
            frame = parse_frame(raw, max_bytes=settings.IMHUB_MAX_FRAME_BYTES)
        except ProtocolError as exc:
            stats.stats_frame_received(frame_type=None)
            await self._refuse(exc.code, exc.message, ref=exc.ref)
            return
        stats.stats_frame_received(frame_type=type(frame).TYPE)
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=QUEUE_FRAMES)
            self._processor = asyncio.create_task(self._process(self._queue))
        await self._queue.put(frame)  # a full queue stops reading this socket: backpressure

    async def _process(self, queue: asyncio.Queue[BaseFrame]) -> None:
        while True:
            frame = await queue.get()
            await self._handle(frame)

    async def _handle(self, frame: BaseFrame) -> None:
        assert self.session is not None
        try:
            outcome = await _in_thread(handlers.frame_handle)(session=self.session, frame=frame)
        except ProtocolError as exc:
            account_id = getattr(frame.payload, "account_id", None)
            await self._refuse(exc.code, exc.message, ref=exc.ref or frame.id, account_id=account_id)
            return
        except Exception:
            account_id = getattr(frame.payload, "account_id", None)
            logger.exception(
                "internal error handling %s: worker=%s account_id=%s",
                type(frame).TYPE,
                self.session.worker_id,
                account_id,
            )
            await self._refuse(
                ErrorCode.INTERNAL,
                "internal error; the frame was not applied",
                ref=frame.id,
                account_id=account_id,
            )
            return
        for out in outcome.frames:
            await self.send(text_data=dump_frame(out))
        if outcome.rejected_code:
            stats.stats_frame_rejected(code=outcome.rejected_code)
        if outcome.joined and self.group is None:
            from accounts.commands import worker_group

            self.group = worker_group(self.session.worker_id)
            await self.channel_layer.group_add(self.group, self.channel_name)

    async def _refuse(
        self, code: str, message: str, *, ref: str | None, account_id: int | None = None
    ) -> None:
        stats.stats_frame_rejected(code=code)
        worker_id = self.session.worker_id if self.session else "?"
        logger.warning(
            "frame refused: worker=%s account_id=%s code=%s ref=%s: %s",
            worker_id,
            account_id,
            code,
            ref,
            message,
        )
        await self.send(text_data=dump_frame(error_frame(code, message, ref=ref)))

    async def worker_command(self, event: dict[str, Any]) -> None:
        """A command dict from `accounts.commands.send_worker_command`, sent down as a hub frame."""
        command = event.get("command") or {}
        try:
            frame = await _in_thread(handlers.command_frame)(command=command)
        except Exception:
            logger.exception(
                "command %s for worker %s account_id=%s failed",
                command.get("name"),
                self.session.worker_id if self.session else "?",
                command.get("account_id"),
            )
            return
        if frame is not None:
            await self.send(text_data=dump_frame(frame))

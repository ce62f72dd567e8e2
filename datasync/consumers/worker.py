"""`WorkerConsumer` at `/ws/worker/`: transport only.

Authenticates the handshake (`Authorization: Bearer <token>`, else accept-then-close 4401), parses each
text frame with `parse_frame`, runs `handlers.frame_stage` and a sync frame's publish step in worker
threads (never on the event loop, and not on Django's single shared sync thread, so one worker's
database work never delays another's heartbeats), sends the outcome, and turns every error into
`master:error`. Frames of one connection are applied strictly in order by one processing task per
connection, with two overlaps only: the next frame's preparation (`_prepare`) and a sync frame's
commit overlapping the previous sync frame's publish (`_process`).
Commands sent to the worker's group by `accounts.commands` go down as hub frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections

from datasync import commands, handlers, stats
from datasync.protocol import (
    BaseFrame,
    DataSyncFrame,
    ErrorCode,
    ProtocolError,
    dump_frame,
    error_frame,
    parse_frame,
    times_check,
)
from datasync.runtime import runtime

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401
CONNECTION_TAKEN = 4409  # another live connection holds this worker's token
PROBE_SECONDS = 2.0  # how long the holder of a token may take to say it is alive
QUEUE_FRAMES = 16

_Refusal = tuple[str, str, str | None, int | None]  # code, message, ref, account_id


def _in_thread(fn: Any) -> Any:
    """Run sync `fn` in the thread pool with Django's connection housekeeping."""
    return database_sync_to_async(fn, thread_sensitive=False)


_housekeeping = threading.local()
HOUSEKEEPING_EVERY = 1.0  # seconds, per thread of the frame path


def _in_frame_thread(fn: Any) -> Any:
    """Run sync `fn` in the thread pool for the frame path (several calls per frame). Django's
    housekeeping around every call (`close_old_connections`) made CONN_HEALTH_CHECKS ping the database
    once per frame, a round trip (and a wait for the GIL) on the ingest's critical path. Here it runs
    before a call at most once per `HOUSEKEEPING_EVERY` seconds per thread (so a dead or too old
    connection is still replaced before use), and after every call that failed."""

    def call(**kwargs: Any) -> Any:
        now = time.monotonic()
        if now - getattr(_housekeeping, "at", 0.0) >= HOUSEKEEPING_EVERY:
            close_old_connections()
            _housekeeping.at = now
        try:
            return fn(**kwargs)
        except BaseException:
            close_old_connections()
            raise

    return sync_to_async(call, thread_sensitive=False)


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
    _preparer: asyncio.Task[None] | None = None
    _processor: asyncio.Task[None] | None = None
    _publishing: asyncio.Task[None] | None = None

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
        if not await self._connection_claim(worker):
            client = self.scope.get("client") or ("?", 0)
            from accounts.services import worker_connection_refused

            await _in_thread(worker_connection_refused)(worker_pk=worker.pk, source=str(client[0]))
            await self.close(code=CONNECTION_TAKEN)
            return
        self.session = handlers.WorkerSession(worker=worker)
        stats.stats_socket_opened(worker_id=self.session.worker_id)
        logger.info("worker %s connected", self.session.worker_id)

    async def _connection_claim(self, worker: Any) -> bool:
        """One live connection per worker token, across hub processes: the token's holder (a channel
        name in the database) is asked whether it is alive; a holder that answers keeps the token (this
        connection is refused) unless IMHUB_WORKER_CONNECTION_REPLACE, which closes the holder instead;
        a holder that does not answer (its process died) is taken over."""
        from accounts.services import worker_connection_claim, worker_connection_holder

        layer = self.channel_layer
        for _attempt in range(3):
            holder = await _in_thread(worker_connection_holder)(worker_pk=worker.pk)
            taken = holder and holder != self.channel_name and layer is not None
            if taken and await self._holder_alive(holder):
                if not settings.IMHUB_WORKER_CONNECTION_REPLACE:
                    return False
                logger.warning("worker %s: a new connection replaces the live one", worker.worker_id)
                await layer.send(holder, {"type": "worker.replaced"})
            if await _in_thread(worker_connection_claim)(
                worker_pk=worker.pk, mine=self.channel_name, expected=holder
            ):
                return True
        return False

    async def _holder_alive(self, holder: str) -> bool:
        layer = self.channel_layer
        reply = await layer.new_channel()
        try:
            await layer.send(holder, {"type": "worker.probe", "reply": reply})
            await asyncio.wait_for(layer.receive(reply), timeout=PROBE_SECONDS)
        except TimeoutError:
            return False
        except Exception:
            logger.warning("probing the holder of a worker token failed", exc_info=True)
            return False
        return True

    async def worker_probe(self, message: dict[str, Any]) -> None:
        """Another connection with this token asks whether this one is alive: it is."""
        with contextlib.suppress(Exception):
            await self.channel_layer.send(message["reply"], {"type": "worker.probe.ack"})

    async def worker_replaced(self, message: dict[str, Any]) -> None:
        """A newer connection took this worker's token (IMHUB_WORKER_CONNECTION_REPLACE)."""
        logger.warning(
            "worker %s: replaced by a newer connection; closing", getattr(self.session, "worker_id", "?")
        )
        await self.close(code=CONNECTION_TAKEN)

    async def disconnect(self, code: int) -> None:
        for task in (self._preparer, self._processor):
            if task is not None:
                task.cancel()  # queued frames were not acked: the worker resends them
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._publishing is not None:  # a committed change still goes to the store; no ack is sent
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._publishing
        if self.session is None:
            return
        from accounts.services import worker_connection_release, worker_disconnect

        with contextlib.suppress(Exception):
            await _in_thread(worker_connection_release)(
                worker_pk=self.session.worker.pk, mine=self.channel_name
            )

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
            times_check(frame)
        except ProtocolError as exc:
            stats.stats_frame_received(frame_type=None)
            await self._refuse(exc.code, exc.message, exc.ref)
            return
        stats.stats_frame_received(frame_type=type(frame).TYPE)
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=QUEUE_FRAMES)
            prepared: asyncio.Queue[tuple[BaseFrame, Any]] = asyncio.Queue(maxsize=1)
            self._preparer = asyncio.create_task(self._prepare(self._queue, prepared))
            self._processor = asyncio.create_task(self._process(prepared))
        await self._queue.put(frame)  # a full queue stops reading this socket: backpressure

    async def _prepare(
        self, queue: asyncio.Queue[BaseFrame], prepared: asyncio.Queue[tuple[BaseFrame, Any]]
    ) -> None:
        """`handlers.frame_prepare` of the next frame (in a thread) while `_process` handles the one
        before: a sync frame's records are ready when its transaction starts. The prepared state stays
        here, beside the frame, until its handler gets it."""
        preparers = runtime.wiring.frame_preparers
        while True:
            frame = await queue.get()
            ready = None
            if type(frame).TYPE in preparers:  # frames with nothing to prepare take no thread hop
                try:
                    ready = await _in_frame_thread(handlers.frame_prepare)(frame=frame)
                except Exception:  # the handler does the work again and reports what fails
                    logger.exception("preparing %s failed", type(frame).TYPE)
            await prepared.put((frame, ready))

    async def _process(self, queue: asyncio.Queue[tuple[BaseFrame, Any]]) -> None:
        """Frames in order, with one overlap: a sync frame's transaction commits (in a thread) while
        the previous sync frame's change goes to the store and out (its publish step, in another
        thread), so the database and the hub's CPU work at the same time. Every frame's answer (ack or
        error) still goes out in frame order, and an ack only after its change is in the store.
        Any other frame first waits for the pending publish."""
        while True:
            frame, ready = await queue.get()
            if not isinstance(frame, DataSyncFrame):
                await self._publish_wait()
            outcome, refusal = await self._stage(frame, ready)
            await self._publish_wait()
            if refusal is not None:
                await self._refuse(*refusal)
            elif outcome is not None and outcome.publish is not None:
                self._publishing = asyncio.create_task(self._publish_then_answer(frame, outcome))
            elif outcome is not None:
                await self._answer(outcome)

    async def _publish_wait(self) -> None:
        task, self._publishing = self._publishing, None
        if task is not None:
            await task

    async def _stage(self, frame: BaseFrame, ready: Any) -> tuple[handlers.Outcome | None, _Refusal | None]:
        """`handlers.frame_stage` in a thread; a refusal comes back to be sent in order."""
        assert self.session is not None
        account_id = getattr(frame.payload, "account_id", None)
        try:
            outcome = await _in_frame_thread(handlers.frame_stage)(
                session=self.session, frame=frame, prepared=ready
            )
        except ProtocolError as exc:
            return None, (exc.code, exc.message, exc.ref or frame.id, account_id)
        except Exception:
            return None, self._internal_error(frame, "handling", "internal error; the frame was not applied")
        return outcome, None

    def _internal_error(self, frame: BaseFrame, step: str, message: str) -> _Refusal:
        """Log the exception being handled with the worker and account; the refusal to send for it."""
        assert self.session is not None
        account_id = getattr(frame.payload, "account_id", None)
        logger.exception(
            "internal error %s %s: worker=%s account_id=%s",
            step,
            type(frame).TYPE,
            self.session.worker_id,
            account_id,
        )
        return ErrorCode.INTERNAL, message, frame.id, account_id

    async def _publish_then_answer(self, frame: BaseFrame, outcome: handlers.Outcome) -> None:
        assert self.session is not None
        try:
            await _in_frame_thread(outcome.publish_run)()
        except Exception:
            message = "internal error; the frame was stored but not published, not acked"
            await self._refuse(*self._internal_error(frame, "publishing", message))
            return
        await self._answer(outcome)

    async def _answer(self, outcome: handlers.Outcome) -> None:
        assert self.session is not None
        for out in outcome.frames:
            await self.send(text_data=dump_frame(out))
        if outcome.rejected_code:
            stats.stats_frame_rejected(code=outcome.rejected_code)
        if outcome.joined and self.group is None:
            from accounts.commands import worker_group

            self.group = worker_group(self.session.worker_id)
            await self.channel_layer.group_add(self.group, self.channel_name)

    async def _refuse(self, code: str, message: str, ref: str | None, account_id: int | None = None) -> None:
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
        """A worker command (`accounts.commands.send_worker_command`), sent down as its hub frame."""
        command = event.get("command") or {}
        try:
            frame = await _in_thread(commands.command_frame)(message=command)
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

"""Per-process hub runtime: the DataStore replica, its start-up load, the fan-out listener, periodic jobs.

What a process runs is given once, as a `Wiring` (frame handlers, fan-out handlers, loaders, periodic
jobs): `ImhubConfig.ready()` calls `runtime.build(hub_wiring())` (`imhub/wiring.py`, the core's wiring
composed with the IM app's); no module registers anything on import.

Start-up (the same code path under the in-memory and the Redis channel layer):
1. join the fan-out group (and `accounts.commands.ACCOUNTS_GROUP`) with a raw channel, listening at once;
2. buffer every message while loading;
3. load: each account's (last_seq, revision) from SyncState, then each account's items, from the
   start-up snapshot where it is at the database's revision, else from the Entity rows
   (datasync/snapshot.py), then the wiring's loaders (the IM app's read marks);
4. replay the buffer: `sync` changes above the loaded revision of their account (changes without a
   revision: at or above the loaded seq), all other kinds;
5. dispatch live.
Started lazily by `runtime_asgi_wrapper` on the first HTTP request or WebSocket connection.
HTTP code that reads the store waits for `ensure_ready()` (async) or `wait_ready()` (sync threads).
An applied change goes out one way, `change_publish`: this process's store at once, then the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer
from django.db import close_old_connections

from accounts.commands import ACCOUNT_EVENT, ACCOUNTS_GROUP, WorkerCommand
from datasync import fanout, stats
from datasync.persistence import store_load_account
from datasync.protocol import WORKER_FRAMES
from datasync.snapshot import database_name, snapshot_path, snapshot_write, store_load
from datasync.store import Applied, Change

logger = logging.getLogger(__name__)

Loader = Callable[[Any], None]
# `sync` handlers get an `Applied` (the change and what was new to this store); other kinds their data
FanoutHandler = Callable[[Any], None]
FrameHandler = Callable[..., Any]
LOAD_RETRY = 5.0


@dataclass(frozen=True)
class Wiring:
    """Everything one hub process runs besides serving requests, listed in one place.

    - `frame_handlers`: worker frame type -> `fn(*, session, frame) -> Outcome` (one per type);
    - `frame_preparers`: worker frame type -> `fn(frame) -> prepared`: CPU work done ahead of the
      handler, with no database and no effect; the handler gets it as `prepared`;
    - `command_frames`: worker command class -> `fn(command) -> hub frame` for the worker (one per
      command name; `accounts.commands.WorkerCommand`);
    - `fanout_handlers`: fan-out kind -> `fn(data)` run in this process for each message of that kind;
    - `loaders`: `fn(store)` run in a thread during start-up, after the entity rows are loaded;
    - `periodic`: `(fn, interval)`: sync `fn()` in a thread every `interval` seconds once started.
    """

    frame_handlers: Mapping[str, FrameHandler] = field(default_factory=dict)
    fanout_handlers: Mapping[str, tuple[FanoutHandler, ...]] = field(default_factory=dict)
    frame_preparers: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    command_frames: Mapping[type[WorkerCommand], Callable[[Any], Any]] = field(default_factory=dict)
    loaders: tuple[Loader, ...] = ()
    periodic: tuple[tuple[Callable[[], Any], float], ...] = ()

    def check(self) -> None:
        """Refuse a wiring that names a frame type or fan-out kind nobody sends."""
        worker_types = {cls.TYPE for cls in WORKER_FRAMES}
        unknown = sorted(set(self.frame_handlers) - worker_types)
        if unknown:
            raise ValueError(f"no worker frame of type {', '.join(unknown)}")
        unprepared = sorted(set(self.frame_preparers) - set(self.frame_handlers))
        if unprepared:
            raise ValueError(f"a preparer but no handler of worker frame {', '.join(unprepared)}")
        kinds = sorted(set(self.fanout_handlers) - set(fanout.KINDS))
        if kinds:
            raise ValueError(f"unknown fan-out kind {', '.join(kinds)}; known: {', '.join(fanout.KINDS)}")
        names = [command.NAME for command in self.command_frames]
        if not all(names) or len(set(names)) != len(names):
            raise ValueError(f"worker commands need one class per name: {sorted(names)}")

    def command_class(self, name: str) -> type[WorkerCommand] | None:
        """The worker command class called ``name`` (dispatch by name), or None."""
        return next((command for command in self.command_frames if name == command.NAME), None)


def wiring_compose(*parts: Wiring) -> Wiring:
    """One wiring of several (the core's, each app's), in the order given: a frame type has one
    handler in all (a second one is refused); a fan-out kind runs every part's handlers; loaders
    and periodic jobs run in order."""
    frame_handlers: dict[str, FrameHandler] = {}
    fanout_handlers: dict[str, tuple[FanoutHandler, ...]] = {}
    preparers: dict[str, Callable[[Any], Any]] = {}
    commands: dict[type[WorkerCommand], Callable[[Any], Any]] = {}
    for part in parts:
        for frame_type, handler in part.frame_handlers.items():
            if frame_type in frame_handlers:
                raise ValueError(f"two handlers of worker frame {frame_type}")
            frame_handlers[frame_type] = handler
        for kind, handlers in part.fanout_handlers.items():
            fanout_handlers[kind] = (*fanout_handlers.get(kind, ()), *handlers)
        preparers.update(part.frame_preparers)
        commands.update(part.command_frames)
    return Wiring(
        frame_handlers=frame_handlers,
        fanout_handlers=fanout_handlers,
        frame_preparers=preparers,
        command_frames=commands,
        loaders=tuple(loader for part in parts for loader in part.loaders),
        periodic=tuple(job for part in parts for job in part.periodic),
    )


class Runtime:
    """One per process (`runtime`); holds the store and the background tasks of this process."""

    def __init__(self) -> None:
        self.store: Any = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._accepting = False
        self._buffer: list[tuple[str, Any]] = []
        self._loaded_seq: dict[int, int] = {}
        self._seen_seq: dict[int, int] = {}
        self._wiring: Wiring | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._channel: str | None = None
        self._start_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.load_error: str | None = None
        self.loaded_rows = 0
        self.load_seconds: float | None = None
        self.load_report: dict[str, Any] = {}
        self._loaded_revision: dict[int, int] = {}
        self._snapshot_written: dict[int, int | None] | None = None
        self._snapshot_lock = threading.Lock()

    # ---- wiring ------------------------------------------------------------------------------------

    def build(self, wiring: Wiring) -> None:
        """Give this process its wiring (once per process, before `start`; tests may rebuild)."""
        wiring.check()
        self._wiring = wiring

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            raise RuntimeError("the hub runtime is not built: ImhubConfig.ready() calls runtime.build()")
        return self._wiring

    # ---- state -------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def ensure_ready(self, timeout: float = 120.0) -> Any:
        """Start the runtime if needed and wait until the store is loaded; returns the store."""
        await self.start()
        if not self._ready.is_set():
            await asyncio.wait_for(asyncio.to_thread(self._ready.wait, timeout), timeout + 1)
        if not self._ready.is_set():
            raise TimeoutError("the DataStore is still loading")
        return self.store

    def wait_ready(self, timeout: float = 120.0) -> Any:
        """Blocking form of `ensure_ready` for sync code in threads (the runtime must be started)."""
        if not self._ready.wait(timeout):
            raise TimeoutError("the DataStore is still loading")
        return self.store

    # ---- start / stop ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Join, buffer, load, replay (idempotent; concurrent callers wait for the same start)."""
        loop = asyncio.get_running_loop()
        if self._tasks and self._loop is loop:
            return
        if self._start_lock is None or self._loop is not loop:
            self._start_lock = asyncio.Lock()
            self._loop = loop
        async with self._start_lock:
            if self._tasks:
                return
            from datasync.store import DataStore

            wiring = self.wiring
            self.store = DataStore()
            self._accepting = True
            layer = get_channel_layer()
            # the default prefix: channels-redis receives every local channel of one prefix with one
            # blocking pop under one lock, so a second prefix starves the consumers' channels up to 5 s
            self._channel = await layer.new_channel()
            await layer.group_add(fanout.FANOUT_GROUP, self._channel)
            await layer.group_add(ACCOUNTS_GROUP, self._channel)
            self._tasks.append(asyncio.create_task(self._listen(layer, self._channel), name="fanout-listen"))
            self._tasks.append(asyncio.create_task(self._load(), name="store-load"))
            for fn, every in wiring.periodic:
                self._tasks.append(asyncio.create_task(self._every(fn, every)))

    async def stop(self) -> None:
        """Cancel the tasks and leave the groups; the next `start()` loads afresh (tests, shutdown)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        layer = get_channel_layer()
        if self._channel is not None and layer is not None:
            with contextlib.suppress(Exception):
                await layer.group_discard(fanout.FANOUT_GROUP, self._channel)
                await layer.group_discard(ACCOUNTS_GROUP, self._channel)
        with self._lock:
            self._channel = None
            self._ready.clear()
            self._accepting = False
            self._buffer = []
            self._loaded_seq = {}
            self._loaded_revision = {}
            self._seen_seq = {}
            self._snapshot_written = None
            self.store = None

    # ---- load and replay ---------------------------------------------------------------------------

    async def _load(self) -> None:
        """Load until it succeeds: a failed attempt is logged, surfaced in stats and retried afresh."""
        from datasync.store import DataStore

        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(_with_connections(self._load_blocking))
            except Exception as exc:
                self.load_error = f"{type(exc).__name__}: {exc}"
                logger.exception("DataStore load failed; retrying in %.0fs with an empty store", LOAD_RETRY)
                self.store = DataStore()  # nothing reads it before ready; changes stay buffered
                await asyncio.sleep(LOAD_RETRY)
                continue
            self.load_error = None
            self.load_seconds = round(time.perf_counter() - started, 3)
            logger.info(
                "DataStore loaded: %d rows in %.2fs (%s)",
                self.loaded_rows,
                self.load_seconds,
                self.load_report,
            )
            return

    def _load_blocking(self) -> None:
        store = self.store
        # The load makes ~10 long-lived objects per item: with the cyclic GC on, its full collections
        # over them took half of a 1,000,000-item load (measured: 7.4 s -> 4.0 s). Off while loading,
        # then the loaded store moves out of the GC's sight for good (gc.freeze), so later full
        # collections do not stall this process either (~1.4 s per million items, measured).
        collecting = gc.isenabled()
        gc.disable()
        try:
            report = store_load(store, path=snapshot_path())
            self.loaded_rows = report.rows
            self.load_report = {
                "snapshot": report.snapshot_note,
                "snapshot_accounts": report.snapshot_accounts,
                "snapshot_rows": report.snapshot_rows,
                "database_accounts": report.database_accounts,
                "database_rows": report.database_rows,
            }
            for loader in self.wiring.loaders:
                loader(store)
            gc.freeze()
        finally:
            if collecting:
                gc.enable()
        last_seqs, revisions = report.last_seqs, report.revisions
        with self._lock:
            self._loaded_seq = last_seqs
            self._loaded_revision = revisions
            self._seen_seq = dict(last_seqs)
            buffered, self._buffer = self._buffer, []
            for kind, data in buffered:
                if isinstance(data, Change) and self._loaded_already(data):
                    continue
                self._dispatch(kind, data)
            self._ready.set()

    def _loaded_already(self, change: Change) -> bool:
        """A buffered change the load covered: its revision was committed before the load read the
        revisions, so its rows were read too. Without a revision (older hubs), the seq rule: strictly
        older only, since a change at the loaded seq may carry a row written outside a sync frame."""
        if change.revision is not None:
            return change.revision <= self._loaded_revision.get(change.account_id, 0)
        return change.seq < self._loaded_seq.get(change.account_id, 0)

    # ---- snapshot ----------------------------------------------------------------------------------

    def snapshot_save(self) -> None:
        """Write the start-up snapshot if this process's store changed since its last write (a periodic
        job of the wiring, and at shutdown). Only accounts at a known revision are written."""
        path, store = snapshot_path(), self.store
        if path is None or store is None or not self._ready.is_set():
            return
        with self._snapshot_lock:
            current = store.account_revisions()
            if current == self._snapshot_written:
                return
            started = time.perf_counter()
            accounts, rows = snapshot_write(store, path, database=database_name())
            self._snapshot_written = current
        logger.info(
            "DataStore snapshot written: %d accounts, %d rows in %.2fs",
            accounts,
            rows,
            time.perf_counter() - started,
        )

    # ---- delivery ----------------------------------------------------------------------------------

    def change_publish(self, *, change: Change) -> None:
        """The one way an applied (durable) change goes out: this process's store at once, so the
        ack and the next read see it, then every other hub process through the fan-out group (where
        this process skips it). A failed publish is logged; the others catch up from the database
        at their next start, or at once when the next change shows them the seq gap."""
        self.deliver(kind="sync", data=change)
        try:
            fanout.fanout_publish_sync(kind="sync", data=change.as_message())
        except Exception:
            logger.exception("fan-out of an applied change failed: account_id=%s", change.account_id)

    def deliver(self, *, kind: str, data: Any) -> None:
        """Apply one change/event in this process (a `sync` kind's data is a `Change`): buffered until
        the load is done, then dispatched."""
        with self._lock:
            if not self._accepting:
                return
            if not self._ready.is_set():
                self._buffer.append((kind, data))
                return
        self._dispatch(kind, data)

    def _dispatch(self, kind: str, data: Any) -> None:
        if isinstance(data, Change):
            self._seq_check(data.account_id, data.seq)
            data = Applied(change=data, new=self.store.apply_change(data))
            account_id: Any = data.change.account_id
        else:
            account_id = data.get("account_id") or data.get("id")
        for fn in self.wiring.fanout_handlers.get(kind, ()):
            try:
                fn(data)
            except Exception:
                logger.exception(
                    "fan-out handler %s failed for kind=%s account_id=%s",
                    getattr(fn, "__qualname__", fn),
                    kind,
                    account_id,
                )

    def _seq_check(self, account_id: int, seq: int) -> None:
        """A change skipped in the fan-out (a full channel, a failed publish) shows as a seq gap:
        count it, log it, and re-read that account's rows from the database in the background."""
        previous = self._seen_seq.get(account_id)
        self._seen_seq[account_id] = max(previous or 0, seq)
        if previous is None or seq <= previous + 1:
            return
        stats.stats_fanout_gap(account_id=account_id)
        logger.warning(
            "fan-out gap: account_id=%s got seq %d after %d; reloading the account from the database",
            account_id,
            seq,
            previous,
        )
        threading.Thread(
            target=_with_connections(lambda: self._reload_account(account_id)), daemon=True
        ).start()

    def _reload_account(self, account_id: int) -> None:
        store = self.store
        try:
            rows = store_load_account(account_id=account_id, apply=store.apply_change)
        except Exception:
            logger.exception("reloading account_id=%s after a fan-out gap failed", account_id)
            return
        logger.info("reloaded account_id=%s after a fan-out gap: %d rows", account_id, rows)

    async def _listen(self, layer: Any, channel: str) -> None:
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("fan-out receive failed; retrying")
                await asyncio.sleep(1.0)
                continue
            try:
                self._on_message(message)
            except Exception:
                logger.exception("fan-out message of type %s failed", message.get("type"))

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == ACCOUNT_EVENT:
            self.deliver(kind="account_status", data=dict(message.get("account") or {}))
            return
        if message.get("type") != fanout.MESSAGE_TYPE:
            logger.warning("ignoring fan-out message of unknown type %r", message.get("type"))
            return
        kind, data = message["kind"], message["data"]
        if kind == "sync":
            if message.get("origin") == fanout.PROCESS_ID:
                return  # applied locally before the ack
            data = Change.from_message(data)
        self.deliver(kind=kind, data=data)

    async def _every(self, fn: Callable[[], Any], interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(_with_connections(fn))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("periodic job %s failed", getattr(fn, "__qualname__", fn))


def _with_connections(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        close_old_connections()
        try:
            return fn()
        finally:
            close_old_connections()

    return run


runtime = Runtime()


def get_store() -> Any:
    """This process's DataStore (None before the runtime started; check `runtime.ready`)."""
    return runtime.store


def change_publish(*, change: Change) -> None:
    """This process's `runtime.change_publish` (see there)."""
    runtime.change_publish(change=change)


async def ensure_ready(timeout: float = 120.0) -> Any:
    return await runtime.ensure_ready(timeout)


def wait_ready(timeout: float = 120.0) -> Any:
    return runtime.wait_ready(timeout)


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
                await asyncio.to_thread(_with_connections(runtime.snapshot_save))
            except Exception:
                logger.exception("writing the DataStore snapshot at shutdown failed")
            with contextlib.suppress(Exception):
                await runtime.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return

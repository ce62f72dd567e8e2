"""`Runtime`: this hub process's DataStore replica and the background work that keeps it current.

It holds the store and the wiring, and composes the runtime's jobs: start-up (join the groups and
listen at once, `listener`; buffer while loading; load, `datasync/snapshot.py`; replay what the load
did not cover, `replay`), live delivery of fan-out messages to the store and the wiring's handlers
(with gap detection, `gaps`), the periodic jobs (`threads.every`) and the start-up snapshot's writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from typing import Any

from channels.layers import get_channel_layer

from accounts.commands import ACCOUNTS_GROUP
from datasync import fanout
from datasync.runtime.gaps import SeqWatch, gap_reload
from datasync.runtime.listener import listen
from datasync.runtime.replay import LoadPoint, replay_plan
from datasync.runtime.threads import every, with_connections
from datasync.runtime.watch import FanoutWatch, fanout_watch
from datasync.runtime.wiring import Wiring
from datasync.snapshot import database_name, snapshot_path, snapshot_write, store_load
from datasync.store import Applied, Change, DataStore

logger = logging.getLogger("datasync.runtime")

LOAD_RETRY = 5.0


class Runtime:
    """One per process (`runtime`); holds the store and the background tasks of this process."""

    def __init__(self) -> None:
        self.store: Any = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._accepting = False
        self._buffer: list[tuple[str, Any]] = []
        self._seqs = SeqWatch()
        self._wiring: Wiring | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._channel: str | None = None
        self._start_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.load_error: str | None = None
        self.loaded_rows = 0
        self.load_seconds: float | None = None
        self.load_report: dict[str, Any] = {}
        self._snapshot_written: dict[int, int | None] | None = None
        self._snapshot_lock = threading.Lock()
        self.fanout = FanoutWatch()

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

    def serve(self, store: DataStore) -> None:
        """Serve an already loaded `store` without the runtime's tasks (nothing joins the fan-out and
        nothing is loaded): an in-process test or benchmark that only reads. `reset()` undoes it."""
        with self._lock:
            self.store = store
            self._accepting = True
            self._ready.set()

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
            wiring = self.wiring
            self.loading()
            layer = get_channel_layer()
            # the default prefix: channels-redis receives every local channel of one prefix with one
            # blocking pop under one lock, so a second prefix starves the consumers' channels up to 5 s
            self._channel = await layer.new_channel()
            await layer.group_add(fanout.FANOUT_GROUP, self._channel)
            await layer.group_add(ACCOUNTS_GROUP, self._channel)
            deliver = lambda kind, data: self.deliver(kind=kind, data=data)  # noqa: E731
            self._tasks.append(
                asyncio.create_task(listen(layer, self._channel, deliver), name="fanout-listen")
            )
            self._tasks.append(asyncio.create_task(self._load(), name="store-load"))
            self.fanout = FanoutWatch()
            self._tasks.append(
                asyncio.create_task(
                    fanout_watch(layer, self._channel, self.fanout, self.catch_up), name="fanout-watch"
                )
            )
            for fn, interval in wiring.periodic:
                self._tasks.append(asyncio.create_task(every(fn, interval)))

    def loading(self) -> None:
        """Begin a load: a fresh, empty store; whatever is delivered from now on is buffered until
        `load_now()` is done (`start()` does both; a test may drive them itself)."""
        with self._lock:
            self.store = DataStore()
            self._accepting = True
            self._ready.clear()
            self._buffer = []

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
        self._channel = None
        self.reset()

    def reset(self) -> None:
        """Forget the store and whatever was buffered or seen (`stop()` ends with it; it also ends a
        `serve()`): the next start loads afresh."""
        with self._lock:
            self._ready.clear()
            self._accepting = False
            self._buffer = []
            self._seqs = SeqWatch()
            self._snapshot_written = None
            self.store = None

    # ---- load and replay ---------------------------------------------------------------------------

    async def _load(self) -> None:
        """Load until it succeeds: a failed attempt is logged, surfaced in stats and retried afresh."""
        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(with_connections(self.load_now))
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

    def load_now(self) -> None:
        """Load the store (blocking: a thread), then replay what was buffered meanwhile and serve."""
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
        point = LoadPoint(seqs=report.last_seqs, revisions=report.revisions)
        with self._lock:
            self._seqs = SeqWatch(point.seqs)
            buffered, self._buffer = self._buffer, []
            for kind, data in replay_plan(buffered, point):
                self._dispatch(kind, data)
            self._ready.set()

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
        if kind == "probe":
            self.fanout.heard(data)
            return
        with self._lock:
            if not self._accepting:
                return
            if not self._ready.is_set():
                self._buffer.append((kind, data))
                return
        self._dispatch(kind, data)

    def reapply(self, change: Change) -> None:
        """Apply rows re-read from the database (a gap repair, a catch-up) as any change is applied, so
        the fan-out handlers (agents' events, the desk) hear of what was new to this replica."""
        self._seqs.gap(change.account_id, change.seq)  # the database's seq: not a gap of its own
        self._dispatch("sync", change)

    def catch_up(self) -> int:
        """Re-read every account whose durable revision is ahead of this replica (or unknown here);
        blocking (a thread). Returns how many accounts were re-read."""
        from datasync.models import SyncState
        from datasync.persistence import store_load_account

        store = self.store
        if store is None or not self._ready.is_set():
            return 0
        held = store.account_revisions()
        stale = [
            account_id
            for account_id, revision in SyncState.objects.values_list("account_id", "revision")
            if held.get(account_id) is None or revision > (held[account_id] or 0)
        ]
        for account_id in stale:
            store_load_account(account_id=account_id, apply=self.reapply)
        return len(stale)

    def _dispatch(self, kind: str, data: Any) -> None:
        if isinstance(data, Change):
            previous = self._seqs.gap(data.account_id, data.seq)
            if previous is not None:
                gap_reload(account_id=data.account_id, seq=data.seq, previous=previous, apply=self.reapply)
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


runtime = Runtime()

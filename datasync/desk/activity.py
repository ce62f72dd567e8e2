"""The queue's rows follow the data: every hub process keeps its ``desk_index`` in step with its store.

- ``threads_sync_apply`` (fan-out ``sync``, after the store applied the change) and
  ``threads_read_mark_apply`` (fan-out ``read_mark``) recompute the summaries of the threads touched;
- ``desk_load`` (start-up loader, after the store and the read marks are loaded) builds every row and
  puts the persisted desk states in place;
- ``snoozes_wake`` (periodic) re-derives snoozed threads whose time has come.

Each row that changes becomes a ``thread`` event for the agents who see its account.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from datasync.desk.index import DeskState, ThreadIndex, ThreadRow, thread_id_parse
from datasync.im.errors import ActionForbidden
from datasync.im.events import event_buffer
from datasync.runtime import runtime
from datasync.store import Applied, DataStore, StoreNotFound

logger = logging.getLogger(__name__)

SNOOZE_CHECK_INTERVAL = 15.0

desk_index = ThreadIndex()


def now_ms() -> int:
    return int(time.time() * 1000)


def _row_publish(row: ThreadRow | None, ident: str) -> None:
    account_id = int(ident.split(":", 1)[0])
    data: dict[str, Any] = row.as_json() if row is not None else {"id": ident, "gone": True}
    event_buffer.publish(type="thread", account_id=account_id, data=data)


desk_index.listen(_row_publish)


def thread_row_for(
    *, ident: str, visible: frozenset[int] | None, writable: frozenset[int] | None = None, write: bool = False
) -> ThreadRow:
    """The visible thread (404 otherwise); with ``write``, one the user may act on (403 otherwise)."""
    row = desk_index.get(ident) if thread_id_parse(ident) else None
    if row is None or (visible is not None and row.account_id not in visible):
        raise StoreNotFound("thread", ident)
    if write and writable is not None and row.account_id not in writable:
        raise ActionForbidden("read_only", "your role in this account's team is read-only")
    return row


def threads_sync_apply(applied: Applied) -> None:
    """Fan-out handler (`sync`): the threads the change touched get their summaries again."""
    store = runtime.store
    if store is None:
        return
    change = applied.change
    keys = store.change_threads(change)
    if keys:
        desk_index.activity_set(
            change.account_id, store.thread_summaries(change.account_id, keys), now=now_ms()
        )


def threads_read_mark_apply(data: dict[str, Any]) -> None:
    """Fan-out handler (`read_mark`): unread counts of the marked threads."""
    store = runtime.store
    if store is None:
        return
    keys = store.read_mark_threads(data)
    if keys:
        account_id = int(data["account_id"])
        desk_index.activity_set(account_id, store.thread_summaries(account_id, keys), now=now_ms())


def state_of(row: Any) -> DeskState:
    """The index's form of a ``models.ThreadState`` row."""
    return DeskState(
        status=row.status,
        status_at=int(row.status_at),
        snoozed_until=row.snoozed_until,
        assignee_id=row.assignee_id,
        labels=tuple(row.labels or ()),
        last_agent_id=row.last_agent_id,
    )


def desk_load(store: DataStore) -> None:
    """Start-up loader: every thread of every account, then the desk's persisted states."""
    from datasync.desk.models import ThreadState

    started = time.monotonic()
    desk_index.clear()
    with desk_index.bulk_load():  # sorted once at the end; no events for the initial build
        now = now_ms()
        for account_id in store.account_ids():
            desk_index.activity_set(account_id, store.thread_summaries(account_id), now=now)
        states = 0
        for row in ThreadState.objects.order_by("id").iterator(chunk_size=2000):
            desk_index.state_set(row.thread_id, state_of(row), now=now)
            states += 1
    logger.info(
        "desk loaded: %d threads, %d states in %.1f s", len(desk_index), states, time.monotonic() - started
    )


def snoozes_wake() -> None:
    """Periodic: snoozed threads whose time has come are open again (each process re-derives its own)."""
    now = now_ms()
    due = desk_index.snoozes_due(now)
    if due:
        desk_index.rederive(due, now=now)

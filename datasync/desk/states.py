"""Agents act on threads: status, snooze, assignment, labels, mark read; one thread or many at once.

``threads_act`` checks every thread first (visible, writable, known), then in one transaction writes
each ``ThreadState`` and an audit ``ThreadEvent``; after the commit it applies the new states to this
process's queue and fans them out (``desk_state``) so every hub process applies them
(``desk_state_fanout_apply``). Marking read goes through the IM app's read marks (shared with the
inbox and audited there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from datasync.desk.activity import desk_index, now_ms, state_of, thread_row_for
from datasync.desk.index import STATUSES, ThreadRow
from datasync.desk.models import ThreadEvent, ThreadEventKind, ThreadState
from datasync.fanout import fanout_publish_sync
from datasync.im.readmarks import read_mark_create
from datasync.store import DataStore, StoreQueryError

logger = logging.getLogger(__name__)

ACTIONS = ("resolve", "reopen", "pending", "snooze", "assign", "mark_read", "label_add", "label_remove")
MAX_THREADS = 5000  # one bulk action: "all matching" stops there (the answer says how many it took)
MAX_LABEL = 40
MAX_LABELS = 20


@dataclass(frozen=True)
class Act:
    """One bulk action's parameters, checked."""

    action: str
    assignee_id: int | None = None
    until: int | None = None
    label: str = ""


def act_check(*, action: str, assignee_id: Any, until: Any, label: Any, now: int) -> Act:
    if action not in ACTIONS:
        raise StoreQueryError("action", f"must be one of {', '.join(ACTIONS)}")
    if action == "snooze":
        if not isinstance(until, int) or isinstance(until, bool) or until <= now:
            raise StoreQueryError("until", "must be a time in the future, epoch ms")
        return Act(action, until=until)
    if action == "assign":
        if assignee_id is not None and (not isinstance(assignee_id, int) or isinstance(assignee_id, bool)):
            raise StoreQueryError("assignee_id", "must be a user id or null (unassign)")
        return Act(action, assignee_id=assignee_id)
    if action in ("label_add", "label_remove"):
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
            raise StoreQueryError("label", f"must be 1 to {MAX_LABEL} characters")
        return Act(action, label=label.strip())
    return Act(action)


def _assignee_check(*, assignee_id: int, account_ids: set[int]) -> Any:
    """The user to assign: must see every account of the selection."""
    from accounts.services import accounts_visible_to

    user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    if user is None:
        raise StoreQueryError("assignee_id", "no such active user")
    seen = set(accounts_visible_to(user).filter(pk__in=account_ids).values_list("id", flat=True))
    if seen != account_ids:
        raise StoreQueryError("assignee_id", "this user cannot see every account of these threads")
    return user


def _new_state(row: ThreadState, act: Act, now: int) -> dict[str, Any] | None:
    """Apply the action to the row (unsaved); returns the audit data, or None if nothing changed."""
    if act.action in ("resolve", "reopen", "pending", "snooze"):
        status = {"resolve": "resolved", "reopen": "open", "pending": "pending", "snooze": "snoozed"}[
            act.action
        ]
        row.status, row.status_at = status, now
        row.snoozed_until = act.until if status == "snoozed" else None
        return {"status": status, "until": row.snoozed_until}
    if act.action == "assign":
        if row.assignee_id == act.assignee_id:
            return None
        before, row.assignee_id = row.assignee_id, act.assignee_id
        return {"from": before, "to": act.assignee_id}
    labels = list(row.labels or [])
    if act.action == "label_add" and act.label not in labels and len(labels) < MAX_LABELS:
        labels.append(act.label)
    elif act.action == "label_remove" and act.label in labels:
        labels.remove(act.label)
    else:
        return None
    row.labels = labels
    return {"labels": labels}


def _resolution_ms(row: ThreadRow, now: int) -> int | None:
    """How long the thread was open when resolved: since the customer's first item after the previous
    resolution (or their first item at all)."""
    a = row.activity
    start = a.get("first_in_at")
    if row.state.status == "resolved" and row.state.status_at and a["last_in_at"]:
        start = a["last_in_at"] if a["last_in_at"] > row.state.status_at else None
    return now - int(start) if start else None


def threads_act(
    *,
    store: DataStore,
    user: Any,
    ids: list[str],
    act: Act,
    visible: frozenset[int] | None,
    writable: frozenset[int] | None,
) -> list[dict[str, Any]]:
    """Apply one action to threads (all or nothing); returns their rows after it."""
    rows = [thread_row_for(ident=i, visible=visible, writable=writable, write=True) for i in ids]
    if act.action == "mark_read":
        return _mark_read(store=store, user=user, rows=rows)
    if act.action == "assign" and act.assignee_id is not None:
        _assignee_check(assignee_id=act.assignee_id, account_ids={r.account_id for r in rows})
    now = now_ms()
    changed: list[ThreadState] = []
    with transaction.atomic():
        events = []
        for thread in rows:
            state, _ = ThreadState.objects.select_for_update().get_or_create(
                account_id=thread.account_id, kind=thread.kind, key=thread.key
            )
            data = _new_state(state, act, now)
            if data is None:
                continue
            if act.action == "resolve":
                data["open_ms"] = _resolution_ms(thread, now)
            state.save()
            changed.append(state)
            kind = ThreadEventKind.ASSIGN if act.action == "assign" else ThreadEventKind.STATUS
            if act.action.startswith("label"):
                kind = ThreadEventKind.LABELS
            events.append(
                ThreadEvent(
                    account_id=thread.account_id, thread=thread.id, action=kind, actor=user, data=data
                )
            )
        ThreadEvent.objects.bulk_create(events)
    states_publish(changed)
    return _rows_now(rows)


def _mark_read(*, store: DataStore, user: Any, rows: list[ThreadRow]) -> list[dict[str, Any]]:
    from accounts.models import Account

    accounts = {a.pk: a for a in Account.objects.filter(pk__in={r.account_id for r in rows})}
    for row in rows:
        if row.activity["unread"] == 0:
            continue
        account = accounts[row.account_id]
        if row.kind == "dm":
            read_mark_create(
                store=store, account=account, user=user, target="conversation", conversation_id=row.key
            )
        else:
            ids = store.comment_thread_ids(account_id=row.account_id, root_id=row.key)[-500:]
            read_mark_create(
                store=store, account=account, user=user, target="items", kind="comments", ids=ids
            )
        ThreadEvent.objects.create(
            account_id=row.account_id, thread=row.id, action=ThreadEventKind.READ, actor=user, data={}
        )
    return _rows_now(rows)


def _rows_now(rows: list[ThreadRow]) -> list[dict[str, Any]]:
    """The threads as the queue shows them after the action (a thread may have left it meanwhile)."""
    now = (desk_index.get(r.id) for r in rows)
    return [row.as_json() for row in now if row is not None]


def state_message(state: ThreadState) -> dict[str, Any]:
    """The fan-out payload of one thread's state."""
    return {
        "id": state.thread_id,
        "status": state.status,
        "status_at": int(state.status_at),
        "snoozed_until": state.snoozed_until,
        "assignee_id": state.assignee_id,
        "labels": list(state.labels or ()),
        "last_agent_id": state.last_agent_id,
    }


def states_publish(states: list[ThreadState]) -> None:
    """Apply committed states here at once, then to every hub process."""
    if not states:
        return
    data = {"states": [state_message(s) for s in states]}
    desk_state_fanout_apply(data)
    try:
        fanout_publish_sync(kind="desk_state", data=data)
    except Exception:
        # durable already; other processes pick it up at their next start
        logger.exception("desk_state fan-out failed: %d threads", len(states))


def desk_state_fanout_apply(data: dict[str, Any]) -> None:
    """Fan-out handler (`desk_state`), every process (the sender's too: applying twice is harmless)."""
    now = now_ms()
    for item in data.get("states") or ():
        if item.get("status") not in STATUSES:
            continue
        state = ThreadState(
            status=item["status"],
            status_at=int(item.get("status_at") or 0),
            snoozed_until=item.get("snoozed_until"),
            assignee_id=item.get("assignee_id"),
            labels=list(item.get("labels") or ()),
            last_agent_id=item.get("last_agent_id"),
        )
        desk_index.state_set(str(item["id"]), state_of(state), now=now)

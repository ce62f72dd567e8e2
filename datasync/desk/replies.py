"""Replying from the desk: the IM app's reply, with a collision check and the thread's bookkeeping.

Before sending, ``thread_reply`` asks whether anyone answered the thread since the agent opened it
(``opened_at``, the server time the thread was loaded): a teammate's reply through the hub, or an answer
the platform shows (made elsewhere, e.g. on the phone). If so it refuses with 409 ``answered_since``
(who, when) unless the agent confirms. A sent reply records who answered (``last_agent``) and how long
the customer had waited (the audit event the reports read); the thread turns ``pending`` by itself when
the platform's record of the reply arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from datasync.desk.activity import now_ms
from datasync.desk.index import ThreadRow
from datasync.desk.models import ThreadEvent, ThreadEventKind, ThreadNote, ThreadState
from datasync.desk.presence import presence_of
from datasync.desk.states import states_publish
from datasync.im.errors import ActionConflict
from datasync.im.events import event_buffer
from datasync.im.models import ReplyRequest
from datasync.im.replies import reply_create
from datasync.store import DataStore, StoreQueryError

MAX_NOTE = 4000


def _replies_of(*, store: DataStore, row: ThreadRow) -> QuerySet[ReplyRequest]:
    replies = ReplyRequest.objects.filter(account_id=row.account_id)
    if row.kind == "dm":
        return replies.filter(conversation_id=row.key)
    ids = store.comment_thread_ids(account_id=row.account_id, root_id=row.key) or [row.key]
    return replies.filter(comment_id__in=ids)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def thread_reply(
    *,
    store: DataStore,
    user: Any,
    row: ThreadRow,
    account: Any,
    text: str,
    idempotency_key: str,
    opened_at: int,
    confirm: bool,
    reply_to: str | None,
) -> tuple[ReplyRequest, bool]:
    """Send a reply into the thread through the worker holding the account; returns (reply, created)."""
    existing = ReplyRequest.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if not confirm:
        since = datetime.fromtimestamp(opened_at / 1000, tz=UTC)
        since_opened = list(
            _replies_of(store=store, row=row).filter(created_at__gt=since).select_related("created_by")
        )
        others = sorted((r for r in since_opened if r.created_by_id != user.pk), key=lambda r: r.created_at)
        mine = len(others) < len(since_opened)
        last_out = row.activity["last_out_at"]
        # an answer on the platform after the thread was opened that is not this agent's own reply
        elsewhere = bool(last_out and last_out > opened_at and not mine)
        if others or elsewhere:
            by = sorted({r.created_by.get_username() for r in others if r.created_by is not None})
            at = _ms(others[-1].created_at) if others else last_out
            raise ActionConflict(
                "answered_since",
                "this thread was answered after you opened it; send anyway with confirm",
                answered_by=by,
                answered_at=at,
            )
    if row.kind == "dm":
        target = {"kind": "message", "conversation_id": row.key}
    else:
        comment_id = reply_to or row.key
        if comment_id not in store.comment_thread_ids(account_id=row.account_id, root_id=row.key):
            raise StoreQueryError("reply_to", "not a comment of this thread")
        target = {"kind": "comment", "content_id": row.activity["content_id"], "comment_id": comment_id}
    reply, created = reply_create(
        store=store, account=account, user=user, target=target, text=text, idempotency_key=idempotency_key
    )
    if created:
        now = now_ms()
        waiting = row.activity["waiting_since"]
        ThreadEvent.objects.create(
            account_id=row.account_id,
            thread=row.id,
            action=ThreadEventKind.REPLY,
            actor=user,
            data={"reply_id": str(reply.id), "waited_ms": now - waiting if waiting else None},
        )
        state, _ = ThreadState.objects.get_or_create(account_id=row.account_id, kind=row.kind, key=row.key)
        if state.last_agent_id != user.pk:
            state.last_agent_id = user.pk
            state.save(update_fields=["last_agent", "updated_at"])
            states_publish([state])
    return reply, created


def note_add(*, user: Any, row: ThreadRow, text: str) -> ThreadNote:
    """A private note in the thread (never sent to the platform); the team sees it live."""
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise StoreQueryError("text", f"must be 1 to {MAX_NOTE} characters")
    note = ThreadNote.objects.create(account_id=row.account_id, thread=row.id, text=text, author=user)
    ThreadEvent.objects.create(
        account_id=row.account_id,
        thread=row.id,
        action=ThreadEventKind.NOTE,
        actor=user,
        data={"note": note.pk},
    )
    event_buffer.publish(type="thread_note", account_id=row.account_id, data=note_json(note))
    return note


def note_json(note: ThreadNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "thread": note.thread,
        "text": note.text,
        "author": note.author.get_username() if note.author else None,
        "author_id": note.author_id,
        "created_at": _ms(note.created_at),
    }


def thread_detail(*, store: DataStore, row: ThreadRow) -> dict[str, Any]:
    """A thread with who is in it, its private notes and its replies through the hub (who sent what)."""
    from django.contrib.auth import get_user_model

    data = row.as_json()
    names = dict(
        get_user_model()
        .objects.filter(pk__in={row.state.assignee_id, row.state.last_agent_id} - {None})
        .values_list("pk", "username")
    )
    data["assignee"] = names.get(row.state.assignee_id) if row.state.assignee_id else None
    data["last_agent"] = names.get(row.state.last_agent_id) if row.state.last_agent_id else None
    data["viewers"] = presence_of(row.id)
    data["notes"] = [note_json(n) for n in ThreadNote.objects.filter(thread=row.id).select_related("author")]
    data["replies"] = [
        {
            "id": str(r.id),
            "text": r.text,
            "status": r.status,
            "platform_reply_id": r.platform_reply_id or None,
            "comment_id": r.comment_id or None,
            "sent_by": r.created_by.get_username() if r.created_by else None,
            "created_at": _ms(r.created_at),
        }
        for r in _replies_of(store=store, row=row).select_related("created_by").order_by("created_at")
    ]
    data["items"] = _items(store=store, row=row)
    data["as_of"] = now_ms()
    return data


def _items(*, store: DataStore, row: ThreadRow, limit: int = 100) -> list[dict[str, Any]]:
    """The thread's latest items, oldest first: messages, or the top comment and its replies."""
    if row.kind == "dm":
        messages, _ = store.messages_page(
            account_id=row.account_id, conversation_id=row.key, cursor=None, limit=limit
        )
        return [{"kind": "message", **m} for m in reversed(messages)]
    root = store.comment_get(account_id=row.account_id, comment_id=row.key)
    answers, _ = store.discussions_page(
        account_id=row.account_id, content_id=None, parent_id=row.key, cursor=None, limit=limit
    )
    return [{"kind": "comment", **c} for c in (root, *reversed(answers))]

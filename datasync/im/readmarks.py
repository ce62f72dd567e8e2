"""Read marks: an agent marks items, a conversation or a work's comments read, for the whole team.

``read_mark_create`` validates against the store, persists the audited row (who, when), applies it to
this process's store at once (so the next count reflects it) and fans it out so every hub process
applies it and tells its agents (``read_mark_fanout_apply``). At start-up every row is replayed into
the store (``read_marks_load``). Both are listed in datasync/wiring.py.
"""

from __future__ import annotations

import logging
from typing import Any

from datasync.fanout import fanout_publish_sync
from datasync.im.events import event_buffer
from datasync.im.models import ReadMark, ReadMarkTarget
from datasync.runtime import runtime
from datasync.store import DataStore, StoreNotFound, StoreQueryError

logger = logging.getLogger(__name__)

MAX_IDS = 500


def _validate(
    *,
    store: DataStore,
    account_id: int,
    target: str,
    kind: str,
    ids: list[str],
    conversation_id: str,
    content_id: str,
) -> int | None:
    """Checks the target; returns the ``up_to`` watermark for conversation / content marks."""
    if target == ReadMarkTarget.ITEMS:
        if kind not in ("comments", "messages"):
            raise StoreQueryError("kind", "must be comments or messages for target=items")
        if not ids or len(ids) > MAX_IDS or not all(isinstance(i, str) and i for i in ids):
            raise StoreQueryError("ids", f"must be a list of 1 to {MAX_IDS} non-empty id strings")
        for ident in ids:
            if kind == "comments":
                store.comment_get(account_id=account_id, comment_id=ident)
            else:
                store.message_get(account_id=account_id, message_id=ident)
        return None
    if target == ReadMarkTarget.CONVERSATION:
        if not conversation_id:
            raise StoreQueryError("conversation_id", "required for target=conversation")
        store.conversation_get(account_id=account_id, conversation_id=conversation_id)
        return store.conversation_latest(account_id=account_id, conversation_id=conversation_id) or 0
    if target == ReadMarkTarget.CONTENT:
        if not content_id:
            raise StoreQueryError("content_id", "required for target=content")
        store.content_get(account_id=account_id, content_id=content_id)
        return store.content_latest_comment(account_id=account_id, content_id=content_id) or 0
    raise StoreQueryError("target", "must be items, conversation or content")


def read_mark_create(
    *,
    store: DataStore,
    account: Any,
    user: Any,
    target: str,
    kind: str = "",
    ids: list[str] | None = None,
    conversation_id: str = "",
    content_id: str = "",
) -> tuple[ReadMark, int]:
    """Record and apply one read mark; returns the row and how many items it made read here.

    Raises StoreQueryError (bad parameter) or StoreNotFound (unknown item) before anything changes.
    """
    ids = list(ids or [])
    up_to = _validate(
        store=store,
        account_id=account.id,
        target=target,
        kind=kind,
        ids=ids,
        conversation_id=conversation_id,
        content_id=content_id,
    )
    mark = ReadMark.objects.create(
        account=account,
        target=target,
        kind=kind if target == ReadMarkTarget.ITEMS else "",
        ids=ids if target == ReadMarkTarget.ITEMS else [],
        conversation_id=conversation_id if target == ReadMarkTarget.CONVERSATION else "",
        content_id=content_id if target == ReadMarkTarget.CONTENT else "",
        up_to=up_to,
        marked_by=user if getattr(user, "is_authenticated", False) else None,
    )
    data = read_mark_message(mark=mark)
    marked = store.read_mark_apply(data)
    try:
        fanout_publish_sync(kind="read_mark", data=data)
    except Exception:
        # durable already; other processes pick it up at their next start
        logger.exception("read_mark fan-out failed: account_id=%s platform=%s", account.id, account.platform)
    return mark, marked


def read_mark_message(*, mark: ReadMark) -> dict[str, Any]:
    """The fan-out / event payload of a mark: the store shape plus the audit fields."""
    data = mark.as_store_mark()
    data["marked_by"] = mark.marked_by_id
    data["marked_at"] = mark.marked_at.isoformat()
    return data


def read_marks_load(store: DataStore) -> None:
    """Start-up loader: replay every persisted mark into a freshly loaded store."""
    count = 0
    for mark in ReadMark.objects.order_by("id").iterator(chunk_size=2000):
        try:
            store.read_mark_apply(mark.as_store_mark())
        except (StoreNotFound, ValueError, KeyError):
            logger.exception("read mark %s could not be applied: account_id=%s", mark.pk, mark.account_id)
        count += 1
    logger.info("read marks loaded: %d", count)


def read_mark_fanout_apply(data: dict[str, Any]) -> None:
    """Fan-out handler (`read_mark`), every process: apply the mark to its store, then tell its agents."""
    store = runtime.store
    if store is not None:
        store.read_mark_apply(data)
    event_buffer.publish(type="read_mark", account_id=int(data["account_id"]), data=data)

"""Thread summaries: one DM conversation, or one top-level comment with its replies, seen as a whole.

Pure functions over an ``AccountIndex`` (called under the store's lock). A summary is what a support
queue needs of a thread without reading its items: who the customer is, the latest item, when the
customer last wrote and when the account last answered, since when the customer has been waiting (the
oldest inbound item after the account's latest outbound one; ``waiting_run``: the times of the newest
``WAITING_RUN`` of those items) and how many inbound items are unread.
A thread without any inbound item (the account's own comment nobody answered) has no summary: it is
nobody's work.

Thread keys: ``("dm", conversation_id)`` and ``("comment", root_comment_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from datasync.store.account import AccountIndex
from datasync.store.items import CommentItem, MessageItem, person_dict

ThreadKey = tuple[str, str]
PREVIEW = 140
WAITING_RUN = 100


def _summary(items: Sequence[CommentItem | MessageItem]) -> dict[str, Any] | None:
    """The activity fields of a thread's items, oldest first; None when no item is inbound."""
    last_in: CommentItem | MessageItem | None = None
    last_out: CommentItem | MessageItem | None = None
    first_in: CommentItem | MessageItem | None = None
    unread = 0
    for item in items:
        if item.inbound:
            last_in = item
            first_in = first_in or item
            if not item.read:
                unread += 1
        else:
            last_out = item
    if last_in is None:
        return None
    waiting_since = None
    run: list[int] = []  # the newest unanswered inbound items' times, newest first (capped)
    for newest in reversed(items):
        if not newest.inbound:
            break
        waiting_since = newest.created_at
        if len(run) < WAITING_RUN:
            run.append(newest.created_at)
    last = items[-1]
    return {
        "last_at": last.created_at,
        "last_text": last.text[:PREVIEW],
        # a media item without text (image, sticker, voice, shared video): its kind, for a label
        "last_media": last.attachments[0].get("type", "") if not last.text and last.attachments else "",
        "last_direction": "in" if last.inbound else "out",
        "first_in_at": first_in.created_at if first_in is not None else None,
        "last_in_at": last_in.created_at,
        "last_out_at": last_out.created_at if last_out is not None else None,
        "waiting_since": waiting_since,
        "waiting_run": tuple(reversed(run)),
        "unread": unread,
        "items": len(items),
        "_last_in": last_in,
    }


def dm_summary(index: AccountIndex, conversation_id: str) -> dict[str, Any] | None:
    keys = index.conv_messages.get(conversation_id) or []
    conversation = index.conversations.get(conversation_id)
    summary = _summary([index.messages[message_id] for _, message_id in keys])
    if summary is None:
        return None
    summary.pop("_last_in")
    summary.update(
        kind="dm",
        key=conversation_id,
        content_id=None,
        customer=person_dict(conversation.peer) if conversation is not None else None,
    )
    return summary


def comment_summary(index: AccountIndex, root_id: str) -> dict[str, Any] | None:
    root = index.comments.get(root_id)
    if root is None:
        return None
    items = [root, *(index.comments[c] for _, c in index.replies.get(root_id, ()))]
    items.sort(key=lambda c: (c.created_at, c.comment_id))
    summary = _summary(items)
    if summary is None:
        return None
    last_in: CommentItem = summary.pop("_last_in")
    customer = root.author if root.inbound else last_in.author
    summary.update(kind="comment", key=root_id, content_id=root.content_id, customer=person_dict(customer))
    return summary


def thread_summary(index: AccountIndex, key: ThreadKey) -> dict[str, Any] | None:
    kind, ident = key
    return dm_summary(index, ident) if kind == "dm" else comment_summary(index, ident)


def comment_thread_ids(index: AccountIndex, root_id: str) -> list[str]:
    """The ids of a comment thread's items, oldest first (the top-level comment, then its replies)."""
    if root_id not in index.comments:
        return []
    return [root_id, *(c for _, c in index.replies.get(root_id, ()))]


def thread_keys(index: AccountIndex) -> Iterator[ThreadKey]:
    """Every thread the account may have: its conversations and its top-level comments."""
    for conversation_id in set(index.conversations) | set(index.conv_messages):
        yield ("dm", conversation_id)
    for keys in index.top_comments.values():
        for _, comment_id in keys:
            yield ("comment", comment_id)


def comment_root(index: AccountIndex, comment_id: str, parent_id: str | None = None) -> str:
    """The top-level comment a comment belongs to (itself when it is one)."""
    if parent_id:
        return parent_id
    item = index.comments.get(comment_id)
    return item.parent_id or comment_id if item is not None else comment_id


def change_thread_keys(
    index: AccountIndex, upserts: dict[str, list[dict[str, Any]]], deleted: dict[str, list[str]]
) -> set[ThreadKey]:
    """The threads a change touched (after it was applied)."""
    keys: set[ThreadKey] = set()
    for record in upserts.get("conversations") or ():
        keys.add(("dm", str(record["conversation_id"])))
    for record in upserts.get("messages") or ():
        keys.add(("dm", str(record["conversation_id"])))
    for record in upserts.get("comments") or ():
        parent = record.get("parent_id")
        keys.add(("comment", str(parent) if parent else str(record["comment_id"])))
    for ident in deleted.get("conversations") or ():
        keys.add(("dm", str(ident)))
    for ident in deleted.get("comments") or ():
        keys.add(("comment", str(ident)))
    return keys


def mark_thread_keys(index: AccountIndex, mark: dict[str, Any]) -> set[ThreadKey]:
    """The threads a read mark touched."""
    target = mark["target"]
    if target == "conversation":
        return {("dm", str(mark["conversation_id"]))}
    if target == "content":
        return {("comment", c) for _, c in index.top_comments.get(str(mark["content_id"]), ())}
    ids: Iterable[str] = (str(i) for i in mark.get("ids") or ())
    if mark.get("kind") == "messages":
        return {("dm", index.messages[i].conversation_id) for i in ids if i in index.messages}
    return {("comment", comment_root(index, i)) for i in ids}

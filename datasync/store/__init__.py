"""DataStore: each hub process's in-memory read model of every account's data (docs/architecture.md).

Pure Python, no Django, no I/O. One lock guards all state; every public method holds it only for the
index work (records are converted to compact items before the lock is taken). Every list query is
answered from sorted indexes with bisect, never by scanning an account's items.

Changes come as `Change` (``store/change.py``): the account, its upserted records by kind (after the
merge) and its deleted ids by kind, with the seq and revision they bring the account to.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from datasync.protocol.records import ENTITY_ID_FIELDS, ENTITY_KINDS
from datasync.store.account import KIND_OF_RANK, RANK, AccountIndex
from datasync.store.bulk import AccountRows, account_rows
from datasync.store.change import Applied, Change
from datasync.store.cursor import cursor_decode, cursor_encode, page_keys
from datasync.store.errors import StoreNotFound, StoreQueryError
from datasync.store.items import (
    STAT_FIELDS,
    CommentItem,
    ContentItem,
    ConversationItem,
    MessageItem,
    person_dict,
)
from datasync.store.threads import (
    ThreadKey,
    change_thread_keys,
    comment_root,
    comment_thread_ids,
    mark_thread_keys,
    thread_keys,
    thread_summary,
)

__all__ = ["CONTENT_ORDERINGS", "KINDS", "Applied", "Change", "DataStore", "StoreNotFound", "StoreQueryError"]

KINDS: tuple[str, ...] = ENTITY_KINDS  # the wire's kinds, in the wire's order
_ITEM_CLASS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "contents": ContentItem,
    "comments": CommentItem,
    "conversations": ConversationItem,
    "messages": MessageItem,
    "notifications": dict,
}
CONTENT_ORDERINGS: tuple[str, ...] = tuple(
    f"{sign}{field}" for field in ("published_at", *STAT_FIELDS) for sign in ("-", "")
)
UNIFIED_TYPES = {"comments": "comments", "comment": "comments", "messages": "messages", "message": "messages"}
Page = tuple[list[dict[str, Any]], str | None]


def _comment_out(item: CommentItem) -> dict[str, Any]:
    record = item.to_record()
    record["unread"] = item.inbound and not item.read
    return record


def _message_out(item: MessageItem) -> dict[str, Any]:
    record = item.to_record()
    record["unread"] = item.inbound and not item.read
    return record


class DataStore:
    """Thread-safe in-memory indexes over every account's contents, comments, conversations, messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[int, AccountIndex] = {}

    def _account(self, account_id: int) -> AccountIndex:
        index = self._accounts.get(account_id)
        if index is None:
            index = self._accounts[account_id] = AccountIndex(account_id)
        return index

    # ---- writes ------------------------------------------------------------------------------------

    def apply_change(self, change: Change) -> list[tuple[str, dict[str, Any]]]:
        """Apply one applied change; returns ``(kind, record)`` for each record that was new."""
        account_id, upserts, deleted = change.account_id, change.upserts, change.deleted
        unknown = (set(upserts) | set(deleted)) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown entity kinds in change: {sorted(unknown)}")
        # Build items before taking the lock; a malformed record fails here, before anything changes.
        built = [
            (kind, record, _ITEM_CLASS[kind](record)) for kind in KINDS for record in upserts.get(kind) or ()
        ]
        new: list[tuple[str, dict[str, Any]]] = []
        with self._lock:
            index = self._account(account_id)
            for kind, record, item in built:
                if self._upsert(index, kind, item):
                    new.append((kind, record))
            for kind in KINDS:
                for ident in deleted.get(kind) or ():
                    self._delete(index, kind, str(ident))
            index.revision_applied(change.revision)
        return new

    def account_install(self, index: AccountIndex, *, revision: int | None) -> None:
        """Put a fully built account index in place (start-up), holding every change up to `revision`."""
        index.revision, index.revisions_ahead = revision, set()
        with self._lock:
            self._accounts[index.account_id] = index

    def account_revisions(self) -> dict[int, int | None]:
        with self._lock:
            return {account_id: index.revision for account_id, index in self._accounts.items()}

    def account_ids(self) -> list[int]:
        with self._lock:
            return list(self._accounts)

    def account_export(self, account_id: int) -> tuple[int, AccountRows] | None:
        """(revision, rows) of an account whose every change up to its revision is held, else None."""
        with self._lock:
            index = self._accounts.get(account_id)
            if index is None or index.revision is None:
                return None
            return index.revision, account_rows(index)

    @staticmethod
    def _upsert(index: AccountIndex, kind: str, item: Any) -> bool:
        if kind == "contents":
            return index.upsert_content(item)
        if kind == "comments":
            return index.upsert_comment(item)
        if kind == "conversations":
            return index.upsert_conversation(item)
        if kind == "messages":
            return index.upsert_message(item)
        ident = str(item[ENTITY_ID_FIELDS[kind]])
        new = ident not in index.notifications
        index.notifications[ident] = item
        return new

    @staticmethod
    def _delete(index: AccountIndex, kind: str, ident: str) -> None:
        if kind == "contents":
            index.delete_content(ident)
        elif kind == "comments":
            index.delete_comment(ident)
        elif kind == "conversations":
            index.delete_conversation(ident)
        elif kind == "messages":
            index.delete_message(ident)
        else:
            index.notifications.pop(ident, None)

    def read_mark_apply(self, mark: dict[str, Any]) -> int:
        """Apply a read mark; returns how many items became read.

        ``mark``: ``{"account_id", "target": "items", "kind": "comments"|"messages", "ids": [...]}``,
        ``{"account_id", "target": "conversation", "conversation_id", "up_to"}`` or
        ``{"account_id", "target": "content", "content_id", "up_to"}`` (up_to: epoch ms, inclusive).
        """
        account_id = int(mark["account_id"])
        target = mark["target"]
        with self._lock:
            index = self._account(account_id)
            if target == "items":
                if mark["kind"] not in RANK:
                    raise ValueError(f"read mark kind {mark['kind']!r}")
                return index.mark_items(mark["kind"], [str(i) for i in mark["ids"]])
            if target == "conversation":
                return index.mark_conversation(str(mark["conversation_id"]), int(mark["up_to"]))
            if target == "content":
                return index.mark_content(str(mark["content_id"]), int(mark["up_to"]))
        raise ValueError(f"read mark target {target!r}")

    def clear(self) -> None:
        with self._lock:
            self._accounts.clear()

    # ---- threads (a conversation, or a top-level comment with its replies) ------------------------

    def thread_summaries(
        self, account_id: int, keys: Iterable[ThreadKey] | None = None
    ) -> dict[ThreadKey, dict[str, Any] | None]:
        """Summaries (``store/threads.py``) of the given threads of an account, or of all of them;
        None for a thread that has none (no inbound item, or gone)."""
        with self._lock:
            index = self._require(account_id)
            wanted = list(thread_keys(index)) if keys is None else list(keys)
            return {key: thread_summary(index, key) for key in wanted}

    def change_threads(self, change: Change) -> set[ThreadKey]:
        """The threads an applied change touched."""
        with self._lock:
            return change_thread_keys(self._require(change.account_id), change.upserts, change.deleted)

    def read_mark_threads(self, mark: dict[str, Any]) -> set[ThreadKey]:
        """The threads a read mark touched."""
        with self._lock:
            return mark_thread_keys(self._require(int(mark["account_id"])), mark)

    def inbound_by_hour(self, *, account_id: int, since: int) -> list[int]:
        """Customers' comments and messages since ``since`` (epoch ms), per hour of the day (UTC)."""
        hours = [0] * 24
        with self._lock:
            index = self._require(account_id)
            keys = index.timeline["all"]
            for created_at, rank, ident in keys[bisect_left(keys, (since,)) :]:
                table: Any = index.comments if KIND_OF_RANK[rank] == "comments" else index.messages
                item = table.get(ident)
                if item is not None and item.inbound:
                    hours[(created_at // 3_600_000) % 24] += 1
        return hours

    def comment_thread_ids(self, *, account_id: int, root_id: str) -> list[str]:
        """The ids of a comment thread's items, oldest first."""
        with self._lock:
            return comment_thread_ids(self._require(account_id), root_id)

    def comment_thread_root(self, *, account_id: int, comment_id: str) -> str:
        """The top-level comment of a comment's thread (itself for a top-level comment)."""
        with self._lock:
            return comment_root(self._require(account_id), comment_id)

    # ---- totals ------------------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """Items in the store by kind, plus the number of accounts."""
        with self._lock:
            result = {"accounts": len(self._accounts), **dict.fromkeys(KINDS, 0)}
            for index in self._accounts.values():
                for kind, count in index.counts().items():
                    result[kind] += count
        return result

    def account_totals(self, account_id: int) -> dict[str, int]:
        with self._lock:
            index = self._accounts.get(account_id)
            return index.counts() if index else dict.fromkeys(KINDS, 0)

    def account_summary(self, account_id: int) -> dict[str, Any]:
        """Counts, unread counts and last activity (epoch ms or None) of one account."""
        with self._lock:
            index = self._accounts.get(account_id)
            if index is None:
                return {
                    "counts": dict.fromkeys(KINDS, 0),
                    "unread": {"comments": 0, "messages": 0, "total": 0},
                    "last_activity": None,
                }
            return {
                "counts": index.counts(),
                "unread": index.unread_counts(),
                "last_activity": index.last_activity(),
            }

    def unread_stats(self, account_id: int) -> dict[str, int]:
        with self._lock:
            index = self._accounts.get(account_id)
            return index.unread_counts() if index else {"comments": 0, "messages": 0, "total": 0}

    # ---- lookups ----------------------------------------------------------------------------------

    def _require(self, account_id: int) -> AccountIndex:
        index = self._accounts.get(account_id)
        return index if index is not None else AccountIndex(account_id)

    def conversation_get(self, *, account_id: int, conversation_id: str) -> dict[str, Any]:
        with self._lock:
            index = self._require(account_id)
            conv = index.conversations.get(conversation_id)
            if conv is None:
                raise StoreNotFound("conversation", conversation_id)
            record = conv.to_record()
            record["unread"] = index.conv_unread.get(conversation_id, 0)
            record["sort_time"] = index.conv_sort[conversation_id][0]
            return record

    def conversation_known(self, *, account_id: int, conversation_id: str) -> bool:
        """Whether the account holds this conversation or any message of it (a DM and its conversation
        may arrive in separate frames: the conversation row of a new peer can come after its messages)."""
        with self._lock:
            index = self._require(account_id)
            return conversation_id in index.conversations or bool(index.conv_messages.get(conversation_id))

    def content_get(self, *, account_id: int, content_id: str) -> dict[str, Any]:
        with self._lock:
            index = self._require(account_id)
            content = index.contents.get(content_id)
            if content is None:
                raise StoreNotFound("content", content_id)
            record = content.to_record()
            record["unread_comments"] = index.content_unread.get(content_id, 0)
            return record

    def comment_get(self, *, account_id: int, comment_id: str) -> dict[str, Any]:
        with self._lock:
            item = self._require(account_id).comments.get(comment_id)
            if item is None:
                raise StoreNotFound("comment", comment_id)
            return _comment_out(item)

    def message_get(self, *, account_id: int, message_id: str) -> dict[str, Any]:
        with self._lock:
            item = self._require(account_id).messages.get(message_id)
            if item is None:
                raise StoreNotFound("message", message_id)
            return _message_out(item)

    def conversation_latest(self, *, account_id: int, conversation_id: str) -> int | None:
        with self._lock:
            return self._require(account_id).conversation_latest(conversation_id)

    def content_latest_comment(self, *, account_id: int, content_id: str) -> int | None:
        with self._lock:
            return self._require(account_id).content_latest_comment(content_id)

    # ---- list queries -----------------------------------------------------------------------------

    def conversations_page(self, *, account_id: int, cursor: str | None, limit: int) -> Page:
        after = cursor_decode(cursor, shape=(int, str)) if cursor else None
        with self._lock:
            index = self._require(account_id)
            keys, nxt = page_keys(index.conv_order, after=after, limit=limit)
            results = []
            for sort_time, conversation_id in keys:
                record = index.conversations[conversation_id].to_record()
                record["unread"] = index.conv_unread.get(conversation_id, 0)
                record["sort_time"] = sort_time
                results.append(record)
        return results, cursor_encode(nxt) if nxt else None

    def messages_page(self, *, account_id: int, conversation_id: str, cursor: str | None, limit: int) -> Page:
        after = cursor_decode(cursor, shape=(int, str)) if cursor else None
        with self._lock:
            index = self._require(account_id)
            if conversation_id not in index.conversations and conversation_id not in index.conv_messages:
                raise StoreNotFound("conversation", conversation_id)
            keys, nxt = page_keys(index.conv_messages.get(conversation_id, []), after=after, limit=limit)
            results = [_message_out(index.messages[message_id]) for _, message_id in keys]
        return results, cursor_encode(nxt) if nxt else None

    def contents_page(self, *, account_id: int, ordering: str, cursor: str | None, limit: int) -> Page:
        if ordering not in CONTENT_ORDERINGS:
            raise StoreQueryError("ordering", f"must be one of {', '.join(CONTENT_ORDERINGS)}")
        descending = ordering.startswith("-")
        field = ordering.lstrip("-")
        after = cursor_decode(cursor, shape=(int, int, str)) if cursor else None
        with self._lock:
            index = self._require(account_id)
            keys, nxt = page_keys(
                index.content_ordering(field), after=after, limit=limit, descending=descending
            )
            results = []
            for _, _, content_id in keys:
                record = index.contents[content_id].to_record()
                record["unread_comments"] = index.content_unread.get(content_id, 0)
                results.append(record)
        return results, cursor_encode(nxt) if nxt else None

    def discussions_page(
        self,
        *,
        account_id: int,
        content_id: str | None,
        parent_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Top-level comments of a work (``content_id``) or the replies to a comment (``parent_id``)."""
        after = cursor_decode(cursor, shape=(int, str)) if cursor else None
        with self._lock:
            index = self._require(account_id)
            if parent_id:
                parent = index.comments.get(parent_id)
                if parent is None or (content_id and parent.content_id != content_id):
                    raise StoreNotFound("comment", parent_id)
                keys_all = index.replies.get(parent_id, [])
            else:
                if content_id not in index.contents and content_id not in index.top_comments:
                    raise StoreNotFound("content", content_id)
                keys_all = index.top_comments.get(content_id or "", [])
            keys, nxt = page_keys(keys_all, after=after, limit=limit)
            results = [_comment_out(index.comments[comment_id]) for _, comment_id in keys]
        return results, cursor_encode(nxt) if nxt else None

    def unified_page(
        self,
        *,
        account_id: int,
        types: str,
        unread: bool,
        cursor: str | None,
        limit: int,
        text: str | None = None,
    ) -> Page:
        """Comments and messages merged newest first; ``types`` is ``all``, ``comments`` or ``messages``.

        Each row carries its ``context``: a comment's work (id, title, cover), a message's conversation
        (id, peer), so a client renders a page without one more request per row. ``text`` keeps the
        rows whose text or author contains it (case-insensitive); such a page walks at most
        ``SEARCH_SCAN`` keys, so it may hold fewer than ``limit`` rows and still have a next cursor.
        """
        after = cursor_decode(cursor, shape=(int, int, str)) if cursor else None
        needle = text.casefold() if text else None
        with self._lock:
            index = self._require(account_id)
            source = (index.unread if unread else index.timeline)[types]
            if needle is None:
                keys, nxt = page_keys(source, after=after, limit=limit)
            else:
                keys, nxt = _search_keys(index, source, after=after, limit=limit, needle=needle)
            results = [_unified_row(index, key) for key in keys]
        return results, cursor_encode(nxt) if nxt else None


SEARCH_SCAN = 20_000


def _matches(index: AccountIndex, key: tuple[int, int, str], needle: str) -> bool:
    if KIND_OF_RANK[key[1]] == "comments":
        comment = index.comments[key[2]]
        return needle in comment.text.casefold() or needle in comment.author[2].casefold()
    message = index.messages[key[2]]
    if needle in message.text.casefold():
        return True
    conversation = index.conversations.get(message.conversation_id)
    return conversation is not None and needle in conversation.peer[2].casefold()


def _search_keys(
    index: AccountIndex,
    source: list[tuple[int, int, str]],
    *,
    after: tuple[Any, ...] | None,
    limit: int,
    needle: str,
) -> tuple[list[tuple[int, int, str]], tuple[Any, ...] | None]:
    """Newest-first matches after the cursor, scanning at most SEARCH_SCAN keys (bounded cost)."""
    end = len(source) if after is None else bisect_left(source, after)
    found: list[tuple[int, int, str]] = []
    position = end
    while position > 0 and len(found) < limit and end - position < SEARCH_SCAN:
        position -= 1
        if _matches(index, source[position], needle):
            found.append(source[position])
    if position == 0:
        return found, None
    return found, tuple(source[position])


def _unified_row(index: AccountIndex, key: tuple[int, int, str]) -> dict[str, Any]:
    time, rank, ident = key
    if KIND_OF_RANK[rank] == "comments":
        comment = index.comments[ident]
        content = index.contents.get(comment.content_id)
        return {
            "kind": "comment",
            "id": ident,
            "time": time,
            "unread": comment.inbound and not comment.read,
            "record": comment.to_record(),
            "context": {
                "content_id": comment.content_id,
                "title": content.title if content else "",
                "cover_url": content.cover_url if content else "",
            },
        }
    message = index.messages[ident]
    conversation = index.conversations.get(message.conversation_id)
    return {
        "kind": "message",
        "id": ident,
        "time": time,
        "unread": message.inbound and not message.read,
        "record": message.to_record(),
        "context": {
            "conversation_id": message.conversation_id,
            "peer": person_dict(conversation.peer) if conversation else None,
        },
    }

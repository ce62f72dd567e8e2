"""The indexes of one account: sorted key lists per list route, unread lists and counters.

Not thread-safe on its own: ``DataStore`` holds its lock around every call. Keys are tuples sorted
ascending; list routes walk them backwards (newest first) with bisect.

- unified timeline key: ``(time, rank, id)``, rank 0 for comments, 1 for messages;
- per-work top-level comments and per-comment replies: ``(created_at, comment_id)``;
- per-conversation messages: ``(created_at, message_id)``;
- conversations: ``(sort_time, conversation_id)``.

Unread means inbound (not the author's own comment, direction ``in``) and not marked read. Read state
is kept as explicit ids plus per-conversation / per-work watermarks, so a read mark and the items it
covers may arrive in either order and still give the same result.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any

from datasync.store.items import STAT_FIELDS, CommentItem, ContentItem, ConversationItem, MessageItem

RANK = {"comments": 0, "messages": 1}
KIND_OF_RANK = ("comments", "messages")
REVISIONS_AHEAD_MAX = 10_000


def _remove(keys: list[Any], key: Any) -> None:
    index = bisect_left(keys, key)
    if index < len(keys) and keys[index] == key:
        del keys[index]


class AccountIndex:
    """Everything the store knows about one account."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.contents: dict[str, ContentItem] = {}
        self.comments: dict[str, CommentItem] = {}
        self.conversations: dict[str, ConversationItem] = {}
        self.messages: dict[str, MessageItem] = {}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.top_comments: dict[str, list[tuple[int, str]]] = {}
        self.replies: dict[str, list[tuple[int, str]]] = {}
        self.content_comments: dict[str, set[str]] = {}
        self.conv_messages: dict[str, list[tuple[int, str]]] = {}
        self.conv_order: list[tuple[int, str]] = []
        self.conv_sort: dict[str, tuple[int, str]] = {}
        self.timeline: dict[str, list[tuple[int, int, str]]] = {"all": [], "comments": [], "messages": []}
        self.unread: dict[str, list[tuple[int, int, str]]] = {"all": [], "comments": [], "messages": []}
        self.conv_unread: dict[str, int] = {}
        self.content_unread: dict[str, int] = {}
        self.read_ids: dict[str, set[str]] = {"comments": set(), "messages": set()}
        self.conv_read_upto: dict[str, int] = {}
        self.content_read_upto: dict[str, int] = {}
        self.content_orderings: dict[str, list[tuple[Any, ...]]] = {}
        # the database revision (SyncState.revision) this index holds every change up to; None when
        # a change without one was applied (then it is never written to a snapshot)
        self.revision: int | None = 0
        self.revisions_ahead: set[int] = set()

    def revision_applied(self, revision: int | None) -> None:
        """Record that the change of `revision` is applied; the watermark moves only over a gapless run."""
        if self.revision is None:
            return
        if revision is None or len(self.revisions_ahead) >= REVISIONS_AHEAD_MAX:
            self.revision, self.revisions_ahead = None, set()
            return
        if revision <= self.revision:
            return
        self.revisions_ahead.add(revision)
        while self.revision + 1 in self.revisions_ahead:
            self.revision += 1
            self.revisions_ahead.discard(self.revision)

    # ---- counts ---------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {
            "contents": len(self.contents),
            "comments": len(self.comments),
            "conversations": len(self.conversations),
            "messages": len(self.messages),
            "notifications": len(self.notifications),
        }

    def unread_counts(self) -> dict[str, int]:
        comments = len(self.unread["comments"])
        messages = len(self.unread["messages"])
        return {"comments": comments, "messages": messages, "total": comments + messages}

    def last_activity(self) -> int | None:
        keys = self.timeline["all"]
        return keys[-1][0] if keys else None

    # ---- unread bookkeeping --------------------------------------------------------------------

    def _is_marked_read(self, kind: str, item: CommentItem | MessageItem) -> bool:
        if isinstance(item, CommentItem):
            upto = self.content_read_upto.get(item.content_id)
            return item.comment_id in self.read_ids[kind] or (upto is not None and item.created_at <= upto)
        upto = self.conv_read_upto.get(item.conversation_id)
        return item.message_id in self.read_ids[kind] or (upto is not None and item.created_at <= upto)

    def _unread_add(self, kind: str, key: tuple[int, int, str], item: CommentItem | MessageItem) -> None:
        insort(self.unread[kind], key)
        insort(self.unread["all"], key)
        if isinstance(item, CommentItem):
            self.content_unread[item.content_id] = self.content_unread.get(item.content_id, 0) + 1
        else:
            self.conv_unread[item.conversation_id] = self.conv_unread.get(item.conversation_id, 0) + 1

    def _unread_remove(self, kind: str, key: tuple[int, int, str], item: CommentItem | MessageItem) -> None:
        _remove(self.unread[kind], key)
        _remove(self.unread["all"], key)
        if isinstance(item, CommentItem):
            self.content_unread[item.content_id] -= 1
        else:
            self.conv_unread[item.conversation_id] -= 1

    def _mark_item_read(self, kind: str, item: CommentItem | MessageItem) -> bool:
        if item.read or not item.inbound:
            return False
        item.read = True
        ident = item.comment_id if isinstance(item, CommentItem) else item.message_id
        self._unread_remove(kind, (item.created_at, RANK[kind], ident), item)
        return True

    # ---- upserts / deletes --------------------------------------------------------------------

    def upsert_content(self, item: ContentItem) -> bool:
        new = item.content_id not in self.contents
        self.contents[item.content_id] = item
        self.content_orderings.clear()
        return new

    def delete_content(self, content_id: str) -> None:
        if self.contents.pop(content_id, None) is not None:
            self.content_orderings.clear()

    def upsert_comment(self, item: CommentItem) -> bool:
        old = self.comments.get(item.comment_id)
        if old is not None:
            self.delete_comment(old.comment_id)
            item.read = old.read
        self.comments[item.comment_id] = item
        sort_key = (item.created_at, item.comment_id)
        if item.parent_id:
            insort(self.replies.setdefault(item.parent_id, []), sort_key)
        else:
            insort(self.top_comments.setdefault(item.content_id, []), sort_key)
        self.content_comments.setdefault(item.content_id, set()).add(item.comment_id)
        key = (item.created_at, 0, item.comment_id)
        insort(self.timeline["comments"], key)
        insort(self.timeline["all"], key)
        if item.inbound:
            item.read = item.read or self._is_marked_read("comments", item)
            if not item.read:
                self._unread_add("comments", key, item)
        return old is None

    def delete_comment(self, comment_id: str) -> None:
        item = self.comments.pop(comment_id, None)
        if item is None:
            return
        sort_key = (item.created_at, item.comment_id)
        _remove(
            self.replies.get(item.parent_id, [])
            if item.parent_id
            else self.top_comments.get(item.content_id, []),
            sort_key,
        )
        self.content_comments.get(item.content_id, set()).discard(comment_id)
        key = (item.created_at, 0, item.comment_id)
        _remove(self.timeline["comments"], key)
        _remove(self.timeline["all"], key)
        if item.inbound and not item.read:
            self._unread_remove("comments", key, item)

    def _conv_resort(self, conversation_id: str) -> None:
        conv = self.conversations.get(conversation_id)
        old = self.conv_sort.pop(conversation_id, None)
        if old is not None:
            _remove(self.conv_order, old)
        if conv is None:
            return
        keys = self.conv_messages.get(conversation_id)
        newest = keys[-1][0] if keys else 0
        sort_key = (max(conv.last_message_at or 0, newest), conversation_id)
        self.conv_sort[conversation_id] = sort_key
        insort(self.conv_order, sort_key)

    def upsert_conversation(self, item: ConversationItem) -> bool:
        new = item.conversation_id not in self.conversations
        self.conversations[item.conversation_id] = item
        self._conv_resort(item.conversation_id)
        return new

    def delete_conversation(self, conversation_id: str) -> None:
        if self.conversations.pop(conversation_id, None) is not None:
            self._conv_resort(conversation_id)

    def upsert_message(self, item: MessageItem) -> bool:
        old = self.messages.get(item.message_id)
        if old is not None:
            self.delete_message(old.message_id)
            item.read = old.read
        self.messages[item.message_id] = item
        keys = self.conv_messages.setdefault(item.conversation_id, [])
        was_newest = not keys or keys[-1][0] <= item.created_at
        insort(keys, (item.created_at, item.message_id))
        key = (item.created_at, 1, item.message_id)
        insort(self.timeline["messages"], key)
        insort(self.timeline["all"], key)
        if item.inbound:
            item.read = item.read or self._is_marked_read("messages", item)
            if not item.read:
                self._unread_add("messages", key, item)
        if was_newest and item.conversation_id in self.conversations:
            self._conv_resort(item.conversation_id)
        return old is None

    def delete_message(self, message_id: str) -> None:
        item = self.messages.pop(message_id, None)
        if item is None:
            return
        _remove(self.conv_messages.get(item.conversation_id, []), (item.created_at, item.message_id))
        key = (item.created_at, 1, item.message_id)
        _remove(self.timeline["messages"], key)
        _remove(self.timeline["all"], key)
        if item.inbound and not item.read:
            self._unread_remove("messages", key, item)

    # ---- read marks ----------------------------------------------------------------------------

    def mark_items(self, kind: str, ids: list[str]) -> int:
        marked = 0
        table: dict[str, Any] = self.comments if kind == "comments" else self.messages
        for ident in ids:
            self.read_ids[kind].add(ident)
            item = table.get(ident)
            if item is not None and self._mark_item_read(kind, item):
                marked += 1
        return marked

    def mark_conversation(self, conversation_id: str, up_to: int) -> int:
        if up_to > self.conv_read_upto.get(conversation_id, -1):
            self.conv_read_upto[conversation_id] = up_to
        keys = self.conv_messages.get(conversation_id, [])
        marked = 0
        for _, message_id in keys[: bisect_right(keys, (up_to, "\uffff"))]:
            if self._mark_item_read("messages", self.messages[message_id]):
                marked += 1
        return marked

    def mark_content(self, content_id: str, up_to: int) -> int:
        if up_to > self.content_read_upto.get(content_id, -1):
            self.content_read_upto[content_id] = up_to
        marked = 0
        for comment_id in list(self.content_comments.get(content_id, ())):
            item = self.comments[comment_id]
            if item.created_at <= up_to and self._mark_item_read("comments", item):
                marked += 1
        return marked

    def conversation_latest(self, conversation_id: str) -> int | None:
        keys = self.conv_messages.get(conversation_id)
        return keys[-1][0] if keys else None

    def content_latest_comment(self, content_id: str) -> int | None:
        ids = self.content_comments.get(content_id)
        return max((self.comments[i].created_at for i in ids), default=None) if ids else None

    # ---- orderings ---------------------------------------------------------------------------------

    def content_ordering(self, field: str) -> list[tuple[Any, ...]]:
        """Contents sorted ascending by (field, published_at, id); cached until contents change."""
        keys = self.content_orderings.get(field)
        if keys is None:
            if field in STAT_FIELDS:
                keys = sorted(
                    (getattr(c, field), c.published_at, c.content_id) for c in self.contents.values()
                )
            else:
                keys = sorted((c.published_at, c.published_at, c.content_id) for c in self.contents.values())
            self.content_orderings[field] = keys
        return keys

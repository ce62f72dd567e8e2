"""Building an account's indexes in one pass, and the compact row form of its items.

Start-up does not insert a million items one by one (bisect insertion per index, ~25 us an item):
it makes the items, then sorts each index once (`account_build`). The result is the index that
applying the same records with `AccountIndex.upsert_*` gives (tests/datasync/test_store_bulk.py).

`account_rows` / `items_from_rows` turn an account's items into plain tuples and back: the form the
start-up snapshot keeps (datasync/snapshot.py), because `marshal` reads tuples of str/int/None several
times faster than pickle reads slot objects. Hub-owned read state is not part of it: the read marks
are replayed from the database after every load, as for rows read from the database.
"""

from __future__ import annotations

from typing import Any

from datasync.store.account import AccountIndex
from datasync.store.items import CommentItem, ContentItem, ConversationItem, MessageItem

# slot order of each item's row (every slot but the hub-owned `read`)
CONTENT_ROW = (
    "content_id",
    "type",
    "title",
    "description",
    "cover_url",
    "url",
    "published_at",
    "views",
    "likes",
    "comments",
    "shares",
    "favorites",
    "visibility",
    "platform_type",
)
COMMENT_ROW = (
    "comment_id",
    "content_id",
    "parent_id",
    "author",
    "text",
    "created_at",
    "likes",
    "reply_count",
    "is_author",
    "reply_to",
    "reply_to_reply_id",
    "ip_label",
    "attachments",
)
CONVERSATION_ROW = ("conversation_id", "peer", "last_message_at", "last_message_preview", "platform_unread")
MESSAGE_ROW = (
    "message_id",
    "conversation_id",
    "direction",
    "sender_id",
    "text",
    "msg_type",
    "created_at",
    "attachments",
)
ROW_FIELDS: dict[type, tuple[str, ...]] = {
    ContentItem: CONTENT_ROW,
    CommentItem: COMMENT_ROW,
    ConversationItem: CONVERSATION_ROW,
    MessageItem: MESSAGE_ROW,
}

# rows of an account: (contents, comments, conversations, messages, notifications)
AccountRows = tuple[
    list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any]
]


def _row(item: Any, fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(item, name) for name in fields)


def account_rows(index: AccountIndex) -> AccountRows:
    """Every item of the account as a plain tuple (the caller holds the store's lock)."""
    return (
        [_row(item, CONTENT_ROW) for item in index.contents.values()],
        [_row(item, COMMENT_ROW) for item in index.comments.values()],
        [_row(item, CONVERSATION_ROW) for item in index.conversations.values()],
        [_row(item, MESSAGE_ROW) for item in index.messages.values()],
        list(index.notifications.values()),
    )


def _content(row: tuple[Any, ...]) -> ContentItem:
    item = ContentItem.__new__(ContentItem)
    (
        item.content_id,
        item.type,
        item.title,
        item.description,
        item.cover_url,
        item.url,
        item.published_at,
        item.views,
        item.likes,
        item.comments,
        item.shares,
        item.favorites,
        item.visibility,
        item.platform_type,
    ) = row
    return item


def _comment(row: tuple[Any, ...]) -> CommentItem:
    item = CommentItem.__new__(CommentItem)
    (
        item.comment_id,
        item.content_id,
        item.parent_id,
        author,
        item.text,
        item.created_at,
        item.likes,
        item.reply_count,
        item.is_author,
        reply_to,
        item.reply_to_reply_id,
        item.ip_label,
        attachments,
    ) = row
    item.attachments = tuple(attachments) if attachments else None
    item.author = tuple(author)  # type: ignore[assignment]
    item.reply_to = tuple(reply_to) if reply_to is not None else None  # type: ignore[assignment]
    item.read = False
    return item


def _conversation(row: tuple[Any, ...]) -> ConversationItem:
    item = ConversationItem.__new__(ConversationItem)
    (item.conversation_id, peer, item.last_message_at, item.last_message_preview, item.platform_unread) = row
    item.peer = tuple(peer)  # type: ignore[assignment]
    return item


def _message(row: tuple[Any, ...]) -> MessageItem:
    item = MessageItem.__new__(MessageItem)
    (
        item.message_id,
        item.conversation_id,
        item.direction,
        item.sender_id,
        item.text,
        item.msg_type,
        item.created_at,
        attachments,
    ) = row
    item.attachments = tuple(attachments) if attachments else None
    item.read = False
    return item


def items_from_rows(rows: AccountRows) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any]]:
    contents, comments, conversations, messages, notifications = rows
    return (
        [_content(row) for row in contents],
        [_comment(row) for row in comments],
        [_conversation(row) for row in conversations],
        [_message(row) for row in messages],
        list(notifications),
    )


def account_build(
    account_id: int,
    *,
    contents: list[ContentItem],
    comments: list[CommentItem],
    conversations: list[ConversationItem],
    messages: list[MessageItem],
    notifications: list[dict[str, Any]],
    notification_id: str = "notification_id",
) -> AccountIndex:
    """A fresh account index holding these items, all unread where inbound (ids unique per kind)."""
    index = AccountIndex(account_id)
    index.contents = {item.content_id: item for item in contents}
    index.comments = {item.comment_id: item for item in comments}
    index.conversations = {item.conversation_id: item for item in conversations}
    index.messages = {item.message_id: item for item in messages}
    index.notifications = {str(record[notification_id]): record for record in notifications}

    comment_keys: list[tuple[int, int, str]] = []
    unread_comments: list[tuple[int, int, str]] = []
    top, replies, content_comments, content_unread = (
        index.top_comments,
        index.replies,
        index.content_comments,
        index.content_unread,
    )
    for item in index.comments.values():
        ident, created, content_id = item.comment_id, item.created_at, item.content_id
        if item.parent_id:
            replies.setdefault(item.parent_id, []).append((created, ident))
        else:
            top.setdefault(content_id, []).append((created, ident))
        content_comments.setdefault(content_id, set()).add(ident)
        key = (created, 0, ident)
        comment_keys.append(key)
        if not item.is_author:
            unread_comments.append(key)
            content_unread[content_id] = content_unread.get(content_id, 0) + 1

    message_keys: list[tuple[int, int, str]] = []
    unread_messages: list[tuple[int, int, str]] = []
    conv_messages, conv_unread = index.conv_messages, index.conv_unread
    for message in index.messages.values():
        ident, created, conversation_id = message.message_id, message.created_at, message.conversation_id
        conv_messages.setdefault(conversation_id, []).append((created, ident))
        key = (created, 1, ident)
        message_keys.append(key)
        if message.direction == "in":
            unread_messages.append(key)
            conv_unread[conversation_id] = conv_unread.get(conversation_id, 0) + 1

    for keys in (*top.values(), *replies.values(), *conv_messages.values()):
        keys.sort()
    comment_keys.sort()
    message_keys.sort()
    unread_comments.sort()
    unread_messages.sort()
    index.timeline = {
        "all": sorted(comment_keys + message_keys),
        "comments": comment_keys,
        "messages": message_keys,
    }
    index.unread = {
        "all": sorted(unread_comments + unread_messages),
        "comments": unread_comments,
        "messages": unread_messages,
    }
    for conversation in index.conversations.values():
        thread = conv_messages.get(conversation.conversation_id)
        newest = thread[-1][0] if thread else 0
        index.conv_sort[conversation.conversation_id] = (
            max(conversation.last_message_at or 0, newest),
            conversation.conversation_id,
        )
    index.conv_order = sorted(index.conv_sort.values())
    return index

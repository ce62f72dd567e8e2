"""Compact in-memory forms of the entity records (``__slots__`` objects, not pydantic models).

Each class turns a protocol record dict into a small object and back. Keeping the store's items as
slot objects (and small tuples for people) is what keeps it under 1 KB per item beyond the text.
"""

from __future__ import annotations

import sys
from typing import Any

Person = tuple[str, str, str, str]  # id, sec_uid, nickname, avatar_url

_intern = sys.intern


def _person(value: dict[str, Any] | None) -> Person:
    value = value or {}
    return (
        str(value.get("id", "")),
        str(value.get("sec_uid", "")),
        str(value.get("nickname", "")),
        str(value.get("avatar_url", "")),
    )


def _attachments(value: Any) -> tuple[dict[str, Any], ...] | None:
    """Attachments are rare: None when there are none, else a tuple of the records' dicts."""
    return tuple(dict(a) for a in value) if value else None


def attachments_list(value: tuple[dict[str, Any], ...] | None) -> list[dict[str, Any]]:
    return [dict(a) for a in value] if value else []


def person_dict(person: Person) -> dict[str, str]:
    return {"id": person[0], "sec_uid": person[1], "nickname": person[2], "avatar_url": person[3]}


STAT_FIELDS: tuple[str, ...] = ("views", "likes", "comments", "shares", "favorites")


class ContentItem:
    """A work; stats are kept as plain attributes so orderings can read them directly."""

    __slots__ = (
        "comments",
        "content_id",
        "cover_url",
        "description",
        "favorites",
        "likes",
        "platform_type",
        "published_at",
        "shares",
        "title",
        "type",
        "url",
        "views",
        "visibility",
    )

    def __init__(self, record: dict[str, Any]) -> None:
        stats = record.get("stats") or {}
        self.content_id = str(record["content_id"])
        self.type = _intern(str(record.get("type", "video")))
        platform_type = record.get("platform_type")
        self.platform_type = int(platform_type) if platform_type is not None else None
        self.title = str(record.get("title", ""))
        self.description = str(record.get("description", ""))
        self.cover_url = str(record.get("cover_url", ""))
        self.url = str(record.get("url", ""))
        self.published_at = int(record["published_at"])
        self.views = int(stats.get("views", 0))
        self.likes = int(stats.get("likes", 0))
        self.comments = int(stats.get("comments", 0))
        self.shares = int(stats.get("shares", 0))
        self.favorites = int(stats.get("favorites", 0))
        self.visibility = _intern(str(record.get("visibility", "public")))

    def to_record(self) -> dict[str, Any]:
        return {
            "content_id": self.content_id,
            "type": self.type,
            "platform_type": self.platform_type,
            "title": self.title,
            "description": self.description,
            "cover_url": self.cover_url,
            "url": self.url,
            "published_at": self.published_at,
            "stats": {
                "views": self.views,
                "likes": self.likes,
                "comments": self.comments,
                "shares": self.shares,
                "favorites": self.favorites,
            },
            "visibility": self.visibility,
        }


class CommentItem:
    """A comment or a reply; ``read`` is hub-owned state, never taken from worker data."""

    __slots__ = (
        "attachments",
        "author",
        "comment_id",
        "content_id",
        "created_at",
        "ip_label",
        "is_author",
        "likes",
        "parent_id",
        "read",
        "reply_count",
        "reply_to",
        "reply_to_reply_id",
        "text",
    )

    def __init__(self, record: dict[str, Any]) -> None:
        reply_to = record.get("reply_to")
        parent = record.get("parent_id")
        self.comment_id = str(record["comment_id"])
        self.content_id = str(record["content_id"])
        self.parent_id = str(parent) if parent else None
        self.author = _person(record.get("author"))
        self.text = str(record.get("text", ""))
        self.created_at = int(record["created_at"])
        self.likes = int(record.get("likes", 0))
        self.reply_count = int(record.get("reply_count", 0))
        self.is_author = bool(record.get("is_author", False))
        self.reply_to = (str(reply_to.get("id", "")), str(reply_to.get("nickname", ""))) if reply_to else None
        self.reply_to_reply_id = str(record["reply_to_reply_id"]) if record.get("reply_to_reply_id") else None
        self.ip_label = _intern(str(record.get("ip_label", "")))
        self.attachments = _attachments(record.get("attachments"))
        self.read = False

    @property
    def inbound(self) -> bool:
        return not self.is_author

    def to_record(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "content_id": self.content_id,
            "parent_id": self.parent_id,
            "author": person_dict(self.author),
            "text": self.text,
            "created_at": self.created_at,
            "likes": self.likes,
            "reply_count": self.reply_count,
            "is_author": self.is_author,
            "reply_to": {"id": self.reply_to[0], "nickname": self.reply_to[1]} if self.reply_to else None,
            "ip_label": self.ip_label,
            "attachments": attachments_list(self.attachments),
        } | ({"reply_to_reply_id": self.reply_to_reply_id} if self.reply_to_reply_id else {})


class ConversationItem:
    """A DM conversation; its sort time also follows the newest message the store holds."""

    __slots__ = (
        "conversation_id",
        "last_message_at",
        "last_message_preview",
        "peer",
        "platform_unread",
    )

    def __init__(self, record: dict[str, Any]) -> None:
        last = record.get("last_message_at")
        self.conversation_id = str(record["conversation_id"])
        self.peer = _person(record.get("peer"))
        self.last_message_at = int(last) if last is not None else None
        self.last_message_preview = str(record.get("last_message_preview", ""))
        self.platform_unread = int(record.get("platform_unread", 0))

    def to_record(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "peer": person_dict(self.peer),
            "last_message_at": self.last_message_at,
            "last_message_preview": self.last_message_preview,
            "platform_unread": self.platform_unread,
        }


class MessageItem:
    """One private message; ``direction == "out"`` is the account's own and never unread."""

    __slots__ = (
        "attachments",
        "conversation_id",
        "created_at",
        "direction",
        "message_id",
        "msg_type",
        "read",
        "sender_id",
        "text",
    )

    def __init__(self, record: dict[str, Any]) -> None:
        self.message_id = str(record["message_id"])
        self.conversation_id = str(record["conversation_id"])
        self.direction = _intern(str(record["direction"]))
        self.sender_id = str(record.get("sender_id", ""))
        self.text = str(record.get("text", ""))
        self.msg_type = _intern(str(record.get("msg_type", "text")))
        self.created_at = int(record["created_at"])
        self.attachments = _attachments(record.get("attachments"))
        self.read = False

    @property
    def inbound(self) -> bool:
        return self.direction == "in"

    def to_record(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "direction": self.direction,
            "sender_id": self.sender_id,
            "text": self.text,
            "msg_type": self.msg_type,
            "created_at": self.created_at,
            "attachments": attachments_list(self.attachments),
        }

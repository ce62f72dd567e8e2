"""A small known dataset for store and API tests: build records and changes by hand."""

from __future__ import annotations

from typing import Any

from datasync.store import Change

T0 = 1_700_000_000_000


def content(content_id: str, *, published_at: int, likes: int = 0, views: int = 0) -> dict[str, Any]:
    return {
        "content_id": content_id,
        "type": "video",
        "platform_type": 0,
        "title": f"title {content_id}",
        "description": "",
        "cover_url": "",
        "url": "",
        "published_at": published_at,
        "stats": {"views": views, "likes": likes, "comments": 0, "shares": 0, "favorites": 0},
        "visibility": "public",
    }


def comment(
    comment_id: str,
    *,
    content_id: str,
    created_at: int,
    parent_id: str | None = None,
    is_author: bool = False,
) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "content_id": content_id,
        "parent_id": parent_id,
        "author": {"id": "u1", "sec_uid": "", "nickname": "张三", "avatar_url": ""},
        "text": f"text {comment_id} 😀",
        "created_at": created_at,
        "likes": 0,
        "reply_count": 0,
        "is_author": is_author,
        "reply_to": None,
        "ip_label": "",
        "attachments": [],
    }


def conversation(conversation_id: str, *, last_message_at: int | None) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "peer": {"id": f"p-{conversation_id}", "sec_uid": "", "nickname": "李四", "avatar_url": ""},
        "last_message_at": last_message_at,
        "last_message_preview": "",
        "platform_unread": 0,
    }


def message(
    message_id: str, *, conversation_id: str, created_at: int, direction: str = "in"
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "conversation_id": conversation_id,
        "direction": direction,
        "sender_id": "x",
        "text": f"msg {message_id}",
        "msg_type": "text",
        "created_at": created_at,
        "attachments": [],
    }


def change(
    account_id: int, seq: int = 1, deleted: dict[str, list[str]] | None = None, **upserts: Any
) -> Change:
    return Change(account_id=account_id, seq=seq, upserts=upserts, deleted=deleted or {}, applied_at=T0)


def known_change(account_id: int) -> Change:
    """Two works, three top-level comments (one by the author), one reply, two conversations, four messages."""
    return change(
        account_id,
        contents=[content("w1", published_at=T0, likes=5), content("w2", published_at=T0 + 10, likes=1)],
        comments=[
            comment("c1", content_id="w1", created_at=T0 + 100),
            comment("c2", content_id="w1", created_at=T0 + 300),
            comment("c3", content_id="w1", created_at=T0 + 500, is_author=True),
            comment("r1", content_id="w1", created_at=T0 + 400, parent_id="c1"),
        ],
        conversations=[
            conversation("v1", last_message_at=T0 + 200),
            conversation("v2", last_message_at=T0 + 600),
        ],
        messages=[
            message("m1", conversation_id="v1", created_at=T0 + 150),
            message("m2", conversation_id="v1", created_at=T0 + 200, direction="out"),
            message("m3", conversation_id="v2", created_at=T0 + 250),
            message("m4", conversation_id="v2", created_at=T0 + 600),
        ],
    )

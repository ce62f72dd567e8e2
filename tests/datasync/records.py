"""Builders of protocol record dicts and sync frames for the datasync tests and the ingest benchmark."""

from __future__ import annotations

from typing import Any

from datasync.protocol import DataSyncFrame, dump_frame


def comment(
    cid: str, *, content_id: str = "c1", text: str = "好看", created_at: int = 1_764_000_000_000, **extra: Any
) -> dict[str, Any]:
    return {
        "comment_id": cid,
        "content_id": content_id,
        "parent_id": None,
        "author": {"id": "u1", "sec_uid": "s1", "nickname": "小鱼儿", "avatar_url": ""},
        "text": text,
        "created_at": created_at,
        "likes": 0,
        "reply_count": 0,
        "is_author": False,
        "reply_to": None,
        "ip_label": "浙江",
        "attachments": [],
        **extra,
    }


def message(
    mid: str, *, conversation_id: str = "conv1", text: str = "你好", created_at: int = 1_764_000_000_000
) -> dict[str, Any]:
    return {
        "message_id": mid,
        "conversation_id": conversation_id,
        "direction": "in",
        "sender_id": "u1",
        "text": text,
        "msg_type": "text",
        "created_at": created_at,
        "attachments": [],
    }


def content(content_id: str, *, title: str = "作品", views: int = 0) -> dict[str, Any]:
    return {
        "content_id": content_id,
        "type": "video",
        "platform_type": 0,
        "title": title,
        "description": "",
        "cover_url": "",
        "url": "",
        "published_at": 1_763_000_000_000,
        "stats": {"views": views, "likes": 0, "comments": 0, "shares": 0, "favorites": 0},
        "visibility": "public",
    }


def conversation(
    conversation_id: str, *, last_message_at: int | None = 1_764_000_000_000, preview: str = "你好"
) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "peer": {"id": "u1", "sec_uid": "s1", "nickname": "小鱼儿", "avatar_url": ""},
        "last_message_at": last_message_at,
        "last_message_preview": preview,
        "platform_unread": 1,
    }


def sync_frame(
    *,
    account_id: int,
    epoch: int,
    seq: int,
    entities: dict[str, list[dict[str, Any]]] | None = None,
    deleted: dict[str, list[str]] | None = None,
    frame_id: str | None = None,
) -> DataSyncFrame:
    return DataSyncFrame.build(
        frame_id=frame_id,
        account_id=account_id,
        epoch=epoch,
        seq=seq,
        entities=entities or {},
        deleted=deleted or {},
    )


def sync_text(**kwargs: Any) -> str:
    return dump_frame(sync_frame(**kwargs))

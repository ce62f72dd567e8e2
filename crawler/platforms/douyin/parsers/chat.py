"""Chat parsers: `user_detail` bodies and the fiber props of conversation rows and message nodes."""

from __future__ import annotations

from typing import Any

from crawler.platforms.douyin.parsers.common import api_body_check, as_int, body_list, epoch_ms, first_url
from datasync.protocol import Conversation, Message, Person

NOTICE_AWE_TYPE = 701


def user_detail_parse(*, body: Any) -> dict[str, Person]:
    """A `user_detail` body -> peers by uid."""
    body = api_body_check(body=body, what="user_detail")
    people = {}
    _, entries = body_list(body=body, what="user_detail", keys=("user_list",))
    for entry in entries:
        user = (entry.get("user") if isinstance(entry, dict) else None) or {}
        uid = str((entry or {}).get("user_id") or user.get("uid") or "")
        if uid:
            people[uid] = Person(
                id=uid,
                sec_uid=str(user.get("sec_uid") or ""),
                nickname=str(user.get("nickname") or ""),
                avatar_url=first_url(user.get("avatar_thumb")),
            )
    return people


def message_time(props: dict[str, Any]) -> int:
    """A message's time: `createdAt` (ISO or epoch), else `timestamp`, `createTime`, `createdTime`."""
    for key in ("createdAt", "timestamp", "createTime", "createdTime"):
        if props.get(key) not in (None, ""):
            return epoch_ms(props[key], field=key)
    raise KeyError("createdAt")


def message_parse(*, props: dict[str, Any]) -> Message | None:
    """A rendered message's fiber props -> a message; None for system notices (aweType 701)."""
    content = props.get("content") or {}
    if as_int(content.get("aweType")) == NOTICE_AWE_TYPE or not props.get("serverId"):
        return None
    return Message(
        message_id=str(props["serverId"]),
        conversation_id=str(props["conversationId"]),
        direction="out" if props.get("isFromMe") else "in",
        sender_id=str(props.get("sender") or ""),
        text=str(content.get("text") or ""),
        msg_type="text" if as_int(props.get("type")) in (1, 7) else f"type_{props.get('type')}",
        created_at=message_time(props),
    )


def conversation_parse(*, props: dict[str, Any], people: dict[str, Person]) -> Conversation:
    """A conversation row's fiber props (+ peers from `user_detail`) -> a conversation."""
    peer = props.get("peer") or {}
    uid = str(peer.get("uid") or "")
    known = people.get(uid)
    last = props.get("lastMessage") or {}
    updated = None
    for candidate in (
        last.get("createdAt"),
        last.get("timestamp"),
        last.get("createTime"),
        props.get("updatedAt"),
    ):
        if candidate not in (None, ""):
            updated = epoch_ms(candidate)
            break
    return Conversation(
        conversation_id=str(props["conversationId"]),
        peer=Person(
            id=uid,
            sec_uid=str(peer.get("secUid") or (known.sec_uid if known else "")),
            nickname=str(peer.get("nickname") or (known.nickname if known else "")),
            avatar_url=str(peer.get("avatar") or (known.avatar_url if known else "")),
        ),
        last_message_at=updated,
        last_message_preview=str((last.get("content") or {}).get("text") or ""),
        platform_unread=as_int(props.get("unreadCount")),
    )

"""Chat parsers: `user_detail` bodies and the fiber props of conversation rows and message nodes."""

from __future__ import annotations

import json
from typing import Any

from crawler.platforms.douyin.parsers.common import (
    api_body_check,
    as_int,
    body_list,
    epoch_ms,
    first_url,
    size_or_none,
)
from datasync.protocol import Attachment, Conversation, Message, Person

NOTICE_AWE_TYPE = 701  # a text message's aweType 701: a system notice (skipped); 700 is text
RECEIPT_TYPES = frozenset({50001, 50002})  # read receipts (skipped)
# Message `type` -> msg_type; the media types carry their part as an attachment.
MESSAGE_TYPES = {1: "text", 7: "text", 5: "sticker", 17: "voice", 27: "image", 8: "video"}
MEDIA_LABELS = {"sticker": "[表情]", "voice": "[语音]", "image": "[图片]", "video": "[视频]"}


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


def message_content(value: Any) -> dict[str, Any]:
    """A message's `content`: an object, or (the captured shape) a JSON string `{"text": ...}`; a plain
    string is its text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {"text": value}
        return loaded if isinstance(loaded, dict) else {"text": value}
    return {"text": "" if value is None else str(value)}


def message_attachments(kind: str, content: dict[str, Any]) -> list[Attachment]:
    """A media message's part: sticker (`url.url_list`), voice (`resource_url.url_list`), image
    (`resource_url.origin_url_list`) or shared video (`itemId`); [] for text and unknown types."""
    if kind == "sticker":
        url = first_url(content.get("url")) or first_url(content.get("static_url"))
        if url:
            return [
                Attachment(
                    type="sticker",
                    url=url,
                    width=size_or_none(content.get("width")),
                    height=size_or_none(content.get("height")),
                )
            ]
    elif kind == "voice":
        resource = content.get("resource_url")
        url = first_url(resource, "url_list", "origin_url_list")
        if url:
            return [Attachment(type="voice", url=url, duration_ms=size_or_none(content.get("duration")))]
    elif kind == "image":
        resource = content.get("resource_url")
        url = first_url(resource, "origin_url_list", "large_url_list", "url_list")
        thumb = first_url(resource, "medium_url_list", "thumb_url_list")
        if url or thumb:
            return [
                Attachment(
                    type="image",
                    url=url or thumb,
                    thumb_url=thumb,
                    width=size_or_none(content.get("width")),
                    height=size_or_none(content.get("height")),
                )
            ]
    elif kind == "video":
        item_id = str(content.get("itemId") or content.get("item_id") or "")
        if item_id:
            return [
                Attachment(
                    type="video",
                    url=f"https://www.douyin.com/video/{item_id}",
                    thumb_url=first_url(content.get("cover_url")),
                    item_id=item_id,
                )
            ]
    return []


def message_preview(kind: str, text: str) -> str:
    """What a conversation list shows for a last message: its text, or the media label (`[图片]`)."""
    return text or MEDIA_LABELS.get(kind, "")


def message_parse(*, props: dict[str, Any]) -> Message | None:
    """A message (fiber props of a rendered message, or the IM store's copy) -> a Message; None for
    system notices (aweType 701) and read receipts (types 50001/50002). Media types carry their part as
    an attachment; an unknown type keeps its number (`type_<n>`) and whatever text it has."""
    content = message_content(props.get("content"))
    kind_number = as_int(props.get("type"))
    awe_type = as_int(content.get("aweType", props.get("aweType")))
    if awe_type == NOTICE_AWE_TYPE or kind_number in RECEIPT_TYPES or not props.get("serverId"):
        return None
    kind = MESSAGE_TYPES.get(kind_number, f"type_{kind_number}")
    return Message(
        message_id=str(props["serverId"]),
        conversation_id=str(props["conversationId"]),
        direction="out" if props.get("isFromMe") else "in",
        sender_id=str(props.get("sender") or ""),
        text=str(content.get("text") or ""),
        msg_type=kind,
        created_at=message_time(props),
        attachments=message_attachments(kind, content),
    )


def conversation_key(props: dict[str, Any]) -> str:
    """A conversation row's id: `conversationId`, or `id` (`0:1:<uid>:<uid>`) in the captured shape."""
    return str(props.get("conversationId") or props.get("id") or "")


def last_message(props: dict[str, Any]) -> dict[str, Any]:
    """A row's last message: `lastMessage` or `_lastMessage` (the captured shape), else {}."""
    last = props.get("lastMessage") or props.get("_lastMessage")
    return last if isinstance(last, dict) else {}


def conversation_uids(conversation_id: str) -> list[str]:
    """The two uids of a one-to-one conversation id (`0:1:<uid>:<uid>`); [] for another form."""
    parts = conversation_id.split(":")
    return parts[2:4] if len(parts) == 4 and all(p.isdigit() for p in parts[2:4]) else []


def self_uid(rows: list[dict[str, Any]]) -> str:
    """The account's own uid as the chat page shows it: the sender of a last message it sent, else the
    one uid every conversation id holds (two conversations or more); "" when neither tells."""
    for props in rows:
        last = last_message(props)
        if last.get("isFromMe") and last.get("sender"):
            return str(last["sender"])
    common: set[str] | None = None
    for props in rows:
        uids = set(conversation_uids(conversation_key(props)))
        common = uids if common is None else common & uids
    return next(iter(common)) if common is not None and len(common) == 1 and len(rows) > 1 else ""


def self_sec_uid(rows: list[dict[str, Any]]) -> str:
    """The account's own sec_uid: the secSender of a last message it sent, else the one sec_uid every
    row listing both sides holds (two such rows or more); "" when neither tells."""
    for props in rows:
        last = last_message(props)
        if last.get("isFromMe") and last.get("secSender"):
            return str(last["secSender"])
    common: set[str] | None = None
    pairs = 0
    for props in rows:
        secs = {str(p.get("sec_uid") or "") for p in _participants(props)} - {""}
        if len(secs) < 2:
            continue  # a row listing one side only tells nothing about the other
        pairs += 1
        common = secs if common is None else common & secs
    return next(iter(common)) if common is not None and len(common) == 1 and pairs > 1 else ""


def _participants(props: dict[str, Any]) -> list[dict[str, Any]]:
    found = (props.get("firstPageParticipant") or {}).get("participants") or []
    return [p for p in found if isinstance(p, dict)]


def _peer_uid(conversation_id: str, me: str, people: dict[str, Person]) -> str:
    uids = conversation_uids(conversation_id)
    candidates = [u for u in uids if u != me] if me else [u for u in uids if u in people]
    if len(candidates) != 1:
        raise KeyError("peer uid (neither the row nor its id names the peer)")
    return candidates[0]


def conversation_parse(
    *, props: dict[str, Any], people: dict[str, Person], me: str = "", me_sec: str = ""
) -> Conversation:
    """A conversation row's props (+ peers from `user_detail`, the account's own uid `me` and sec_uid
    `me_sec`) -> a conversation. Two shapes: ours (`conversationId`, `peer`, `unreadCount`, `lastMessage`) and the
    captured one (`id`, `firstPageParticipant.participants[{sec_uid, nick_name}]`, `_lastMessage`,
    `coreInfo.lastMessage{content, createdTime}`, `_badgeCount`)."""
    conversation_id = conversation_key(props)
    if not conversation_id:
        raise KeyError("conversationId")
    peer = props.get("peer") or {}
    uid = str(peer.get("uid") or "") or _peer_uid(conversation_id, me, people)
    known = people.get(uid)
    participants = _participants(props)
    others = [p for p in participants if not me_sec or p.get("sec_uid") != me_sec]
    entry: dict[str, Any] = next(
        (
            p
            for p in participants
            if str(p.get("uid") or "") == uid
            or (known and known.sec_uid and p.get("sec_uid") == known.sec_uid)
        ),
        others[0] if len(others) == 1 else {},
    )
    last = last_message(props)
    core = (props.get("coreInfo") or {}).get("lastMessage") or {}
    updated = None
    for candidate in (
        last.get("createdAt"),
        last.get("timestamp"),
        last.get("createTime"),
        last.get("createdTime"),
        props.get("updatedAt"),
        core.get("createdTime"),
    ):
        if candidate not in (None, "", 0):
            updated = epoch_ms(candidate)
            break
    content = message_content(last.get("content") if last else core.get("content"))
    kind = MESSAGE_TYPES.get(as_int(last.get("type"), 7), "")
    unread = props.get("unreadCount", props.get("_badgeCount"))
    return Conversation(
        conversation_id=conversation_id,
        peer=Person(
            id=uid,
            sec_uid=str(peer.get("secUid") or entry.get("sec_uid") or (known.sec_uid if known else "")),
            nickname=str(
                peer.get("nickname") or (known.nickname if known else "") or entry.get("nick_name") or ""
            ),
            avatar_url=str(peer.get("avatar") or (known.avatar_url if known else "")),
        ),
        last_message_at=updated,
        last_message_preview=message_preview(kind, str(content.get("text") or "")),
        platform_unread=as_int(unread),
    )


def conversation_names(props: dict[str, Any]) -> set[str]:
    """The names a conversation's chat header may show: its peer's (our shape), or its participants'."""
    names = {str((props.get("peer") or {}).get("nickname") or "")}
    for p in _participants(props):
        names.add(str(p.get("nick_name") or p.get("nickname") or ""))
    return names - {""}

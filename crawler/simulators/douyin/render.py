"""Internal records -> the platform's JSON shapes (work_list, comment lists, user_detail, message props).

The quirks are deliberate and documented in README.md: `create_time` is a number but a string for some
records, `has_more` is 0/1, some counters are strings, `items[i].metrics` are all strings.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .data import World, cover_url


def _quirk(key: str) -> bool:
    """A stable ~1-in-4 choice per id: which records carry string numbers (as the real API sometimes does)."""
    return int(key[-2:]) % 4 == 0


def avatar_thumb(url: str) -> dict[str, Any]:
    return {"uri": url.rsplit("/", 1)[-1].split(".")[0], "url_list": [url, url.replace("p3-pc", "p26-pc")]}


def user_brief(world: World, uid: str) -> dict[str, Any]:
    user = world.users[uid]
    return {
        "uid": user["uid"],
        "sec_uid": user["sec_uid"],
        "nickname": user["nickname"],
        "avatar_thumb": avatar_thumb(user["avatar"]),
    }


def work_item(world: World, work: dict[str, Any], comment_count: int) -> dict[str, Any]:
    aweme_id = work["aweme_id"]
    created: int | str = str(work["create_time"]) if _quirk(aweme_id) else work["create_time"]
    return {
        "aweme_id": aweme_id,
        "desc": work["desc"],
        "create_time": created,
        "duration": work["duration"],
        "aweme_type": work["aweme_type"],
        "is_top": work["is_top"],
        "share_url": f"https://www.iesdouyin.com/share/video/{aweme_id}/",
        "statistics": {
            "aweme_id": aweme_id,
            "play_count": work["play_count"],
            "digg_count": work["digg_count"],
            "comment_count": comment_count,
            "share_count": str(work["share_count"]) if _quirk(aweme_id) else work["share_count"],
            "collect_count": str(work["collect_count"]) if _quirk(aweme_id) else work["collect_count"],
        },
        "video": {
            "cover": {"uri": aweme_id, "url_list": [cover_url(aweme_id)]},
            "width": work["width"],
            "height": work["height"],
        },
        "text_extra": [{"hashtag_name": tag, "type": 1} for tag in work["hashtags"]],
        "status": {"is_private": bool(work.get("private")), "is_delete": False},
        "author_user_id": int(world.owner["uid"]),
    }


def work_metrics(work: dict[str, Any], comment_count: int) -> dict[str, Any]:
    play = max(1, work["play_count"])
    return {
        "item_id": work["aweme_id"],
        "metrics": {
            "view_count": str(work["play_count"]),
            "like_count": str(work["digg_count"]),
            "comment_count": str(comment_count),
            "share_count": str(work["share_count"]),
            "favorite_count": str(work["collect_count"]),
            "like_rate": f"{work['digg_count'] / play:.4f}",
            "comment_rate": f"{comment_count / play:.4f}",
            "completion_rate": f"{work['completion_rate']:.4f}",
            "avg_view_second": f"{work['avg_view_second']:.1f}",
            "fans_incr": str(work["digg_count"] // 40),
        },
    }


NO_SURFACE: frozenset[str] = frozenset()


def comment_item(
    world: World, comment: dict[str, Any], reply_total: int, surface: frozenset[str] = NO_SURFACE
) -> dict[str, Any]:
    cid = comment["cid"]
    seconds = comment["create_time"]
    moment = seconds * 1000 + int(cid[-3:]) if "ms_times" in surface else seconds
    created: int | str = str(moment) if _quirk(cid) else moment
    if "bad_record" in surface and comment["level"] == 1 and int(cid[-2:]) % 10 == 3:
        created = "刚刚"  # a form no parser knows: this record must be skipped, not the page
    return {
        "cid": cid,
        "aweme_id": comment["aweme_id"],
        "text": comment["text"],
        "create_time": created,
        "digg_count": str(comment["digg_count"]) if _quirk(cid) else comment["digg_count"],
        "reply_comment_total": reply_total if comment["level"] == 1 else 0,
        "reply_id": comment["reply_id"],
        "reply_to_reply_id": comment["reply_to_reply_id"],
        "reply_to_userid": comment["reply_to_userid"],
        "reply_to_username": comment["reply_to_username"],
        "user": user_brief(world, comment["user_uid"]),
        "label_text": "作者" if comment["is_author"] else "",
        "level": comment["level"],
        "user_digged": 0,
        "image_list": image_list(comment),
        "sticker": sticker(comment),
        "ip_label": comment["ip_label"],
        "status": 1,
    }


def image_list(comment: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An image comment's `image_list` (origin and medium URLs, size); None without images."""
    images = comment.get("images") or []
    if not images:
        return None
    return [
        {
            "origin_url": {"url_list": [i["url"], i["url"].replace("p3-pc", "p26-pc")]},
            "medium_url": {"url_list": [i["url"].replace("comment-origin", "comment-medium")]},
            "width": i["width"],
            "height": i["height"],
        }
        for i in images
    ]


def sticker(comment: dict[str, Any]) -> dict[str, Any] | None:
    """A sticker comment's `sticker` (static and animated URLs, size); None without one."""
    item = comment.get("sticker")
    if not item:
        return None
    return {
        "id": item["id"],
        "width": item["width"],
        "height": item["height"],
        "static_url": {"url_list": [item["url"]]},
        "animate_url": {"url_list": [item["url"].replace(".webp", ".gif")]},
    }


# ---- the captured creator API shapes (item/list, comment/list, comment/reply answers) ----------------

ID_KEY = b"imhub-sim-douyin-encrypted-ids"
SHANGHAI = timezone(timedelta(hours=8))


def id_encrypt(plain: str) -> str:
    """A plain numeric id -> the "@j..." form the captured creator APIs use (reversible, sim)."""
    data = plain.encode()
    mixed = bytes(b ^ ID_KEY[i % len(ID_KEY)] for i, b in enumerate(data))
    return "@j" + base64.b64encode(b"v1:" + mixed).decode().rstrip("=")


def id_decrypt(value: str) -> str:
    """The plain id of an "@j..." id (a plain id is returned as it is; "" when it does not decode)."""
    if not value.startswith("@j"):
        return value
    raw = value[2:]
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        return ""
    if not data.startswith(b"v1:"):
        return ""
    mixed = data[3:]
    return bytes(b ^ ID_KEY[i % len(ID_KEY)] for i, b in enumerate(mixed)).decode(errors="replace")


def display_time(seconds: int) -> str:
    """A work's time as the item list shows it: "发布于2025年10月27日 10:42" (Asia/Shanghai)."""
    moment = datetime.fromtimestamp(seconds, tz=SHANGHAI)
    return f"发布于{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def media_type(aweme_type: int) -> int:
    """The item list's `media_type` (sim: 4 video, 2 image post, the aweme_type itself otherwise)."""
    if aweme_type in (0, 4):
        return 4
    if aweme_type in (2, 68, 150):
        return 2
    return aweme_type


def user_info(world: World, uid: str) -> dict[str, Any]:
    user = world.users[uid]
    return {"user_id": user["uid"], "screen_name": user["nickname"], "avatar_url": user["avatar"]}


def comment_info(world: World, comment: dict[str, Any], reply_total: int) -> dict[str, Any]:
    """One `comment_info_list` entry of the captured comment APIs: encrypted ids, times and counts as
    strings, no work id (the page knows which work it asked for), `user_info` instead of `user`."""
    target = comment.get("reply_to_userid") or "0"
    return {
        "comment_id": id_encrypt(comment["cid"]),
        "text": comment["text"],
        "create_time": str(comment["create_time"]),
        "digg_count": str(comment["digg_count"]),
        "reply_count": str(reply_total if comment["level"] == 1 else 0),
        "is_author": bool(comment["is_author"]),
        "level": comment["level"],
        "user_info": user_info(world, comment["user_uid"]),
        "reply_to_user_info": user_info(world, target) if target != "0" else None,
        "image_list": image_list(comment),
        "sticker": sticker(comment),
    }


def reply_answer(world: World, comment: dict[str, Any]) -> dict[str, Any]:
    """`comment_info` of an accepted comment reply as captured: the plain `comment_id`, text and time,
    no `aweme_id` / `item_id` (the page knows where it replied)."""
    return {
        "comment_id": comment["cid"],
        "text": comment["text"],
        "create_time": comment["create_time"],
        "digg_count": 0,
        "reply_count": 0,
        "is_author": True,
        "level": comment["level"],
        "user_info": user_info(world, comment["user_uid"]),
        "image_list": None,
    }


def iso_ms(created_ms: int) -> str:
    moment = datetime.fromtimestamp(created_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created_ms % 1000:03d}Z"


def message_time(message: dict[str, Any], surface: frozenset[str]) -> dict[str, Any]:
    """`createdAt` as ISO; under `ms_times` as epoch ms, or `timestamp` (s) / `createTime` (ms) instead."""
    created_ms = message["created_ms"]
    if "ms_times" not in surface:
        return {"createdAt": iso_ms(created_ms)}
    form = int(message["serverId"][-2:]) % 3
    if form == 0:
        return {"timestamp": created_ms // 1000}
    if form == 1:
        return {"createTime": created_ms}
    return {"createdAt": created_ms}


def message_content(message: dict[str, Any]) -> dict[str, Any]:
    """A message's `content` object: `{text, aweType}` for text; the captured fields of each media type
    (sticker `url.url_list`, voice `resource_url.url_list`, image `resource_url.origin_url_list`,
    shared video `itemId`)."""
    kind, media = message.get("kind", "text"), message.get("media") or {}
    if kind == "sticker":
        return {"url": {"url_list": [media["url"]]}, "width": media["width"], "height": media["height"]}
    if kind == "voice":
        return {"resource_url": {"url_list": [media["url"]]}, "duration": media["duration_ms"]}
    if kind == "image":
        return {
            "resource_url": {"origin_url_list": [media["url"]], "medium_url_list": [media["thumb_url"]]},
            "width": media["width"],
            "height": media["height"],
        }
    if kind == "video":
        return {
            "itemId": media["item_id"],
            "cover_url": {"url_list": [media["thumb_url"]]},
            "content_title": media["title"],
        }
    if kind == "receipt":
        return {"read_index": message["serverId"]}
    return {"text": message["text"], "aweType": message["aweType"]}


def message_props(
    world: World, message: dict[str, Any], surface: frozenset[str] = NO_SURFACE
) -> dict[str, Any]:
    """What a rendered message node's fiber `memoizedProps` holds (see README.md). Under `chat_v2` the
    node's props are the captured form instead, carried in `store` (the page attaches that one)."""
    sender = world.users[message["sender"]]
    receiver = world.users[message["receiver"]]
    props = {
        "serverId": message["serverId"],
        "conversationId": message["conversationId"],
        "conversationShortId": short_id(message["conversationId"]),
        "sender": sender["uid"],
        "secSender": sender["sec_uid"],
        "secReceiver": receiver["sec_uid"],
        "isFromMe": message["isFromMe"],
        "nickname": sender["nickname"],
        "avatar": sender["avatar"],
        "type": message["type"],
        "content": message_content(message),
    }
    props.update(message_time(message, surface))
    if "chat_v2" in surface:
        props["store"] = store_message(world, message, time_key="createdTime")
    return props


def short_id(conversation_id: str) -> str:
    return str(int(conversation_id.split(":")[-1]) % 10**15 + 7 * 10**18)


def conversation_props(
    world: World, conversation: dict[str, Any], surface: frozenset[str] = NO_SURFACE
) -> dict[str, Any]:
    """The sim-only conversation list entry, also the row's fiber props (peer filled by user_detail).
    Under `chat_v2` the captured grid item rides along in `store` (the page attaches that one)."""
    peer = world.users[conversation["peer_uid"]]
    last = conversation["messages"][-1] if conversation["messages"] else None
    updated: int | str | None = None
    if last:
        updated = last["created_ms"] if "ms_times" in surface else iso_ms(last["created_ms"])
    props = {
        "conversationId": conversation["conversation_id"],
        "peer": {"uid": peer["uid"], "secUid": peer["sec_uid"]},
        "unreadCount": conversation["unread"],
        "updatedAt": updated,
        "lastMessage": message_props(world, last, surface) if last else None,
    }
    if "chat_v2" in surface:
        props["store"] = store_conversation(world, conversation, time_key="createdTime")
    return props


def work_info_item(work: dict[str, Any], comment_count: int) -> dict[str, Any]:
    """One `item_info_list` entry of `/aweme/v1/creator/item/list/` as captured: the encrypted
    `item_id`, the id to use in `item_id_plain`, `create_time` as display text; `title` and
    `comment_count` (what the picker's cards show) are the sim's guess at the fields the capture elides."""
    aweme_id = work["aweme_id"]
    return {
        "item_id": id_encrypt(aweme_id),
        "item_id_plain": aweme_id,
        "create_time": display_time(work["create_time"]),
        "media_type": media_type(work["aweme_type"]),
        "cover_image_url": cover_url(aweme_id),
        "item_link": f"https://www.douyin.com/video/{aweme_id}",
        "title": work["desc"],
        "comment_count": comment_count,
    }


def notice_id(cid: str) -> str:
    return "9" + cid[1:]


def notice_item(
    world: World, comment: dict[str, Any], surface: frozenset[str] = NO_SURFACE
) -> dict[str, Any]:
    """One `notice_list_v2` entry: a fan's comment (type 31) or reply (type 33) on the account's work."""
    work = next(w for w in world.works if w["aweme_id"] == comment["aweme_id"])
    return {
        "nid_str": notice_id(comment["cid"]),
        "type": 31 if comment["level"] == 1 else 33,
        "create_time": comment["create_time"],
        "user_info": user_brief(world, comment["user_uid"]),
        "comment": {
            "comment": {
                "cid": comment["cid"],
                "aweme_id": comment["aweme_id"],
                "text": comment["text"],
                "create_time": comment["create_time"],
                "reply_id": comment["reply_id"],
            },
            "aweme": {"aweme_id": work["aweme_id"], "desc": work["desc"]},
        },
    }


def user_detail_entry(world: World, uid: str) -> dict[str, Any]:
    user = world.users[uid]
    return {
        "user_id": user["uid"],
        "user": {
            "uid": user["uid"],
            "nickname": user["nickname"],
            "sec_uid": user["sec_uid"],
            "avatar_thumb": avatar_thumb(user["avatar"]),
            "signature": user["signature"],
        },
    }


def short_count(value: int) -> str:
    """Follower counts as the home page shows them: 987, 1.2w, 35.6w."""
    if value < 10000:
        return str(value)
    return f"{value / 10000:.1f}".rstrip("0").rstrip(".") + "w"


# ---- the chat page's IM store (what the real page keeps in `imStore`; see README.md "IM store") -----


def store_message(world: World, message: dict[str, Any], *, time_key: str = "createdAt") -> dict[str, Any]:
    """A message as the IM store holds it: `content` a JSON string, its time epoch ms in `time_key`
    (`createdAt` in the store; the captured chat page's nodes have only `createdTime`)."""
    sender = world.users[message["sender"]]
    conversation_id = message["conversationId"]
    return {
        "serverId": message["serverId"],
        "conversationId": conversation_id,
        "conversationShortId": short_id(conversation_id),
        "type": message["type"],
        "content": json.dumps(message_content(message), ensure_ascii=False),
        "sender": sender["uid"],
        "secSender": sender["sec_uid"],
        "isFromMe": message["isFromMe"],
        time_key: message["created_ms"],
    }


def store_conversation(
    world: World, conversation: dict[str, Any], *, time_key: str = "createdAt"
) -> dict[str, Any]:
    """A `converSationListOrigin` entry (and the captured chat grid's item): `id`, `shortId`, both
    participants without uids, `_lastMessage`, `coreInfo.lastMessage`, `_badgeCount`."""
    peer = world.users[conversation["peer_uid"]]
    owner = world.owner
    last = conversation["messages"][-1] if conversation["messages"] else None
    conversation_id = conversation["conversation_id"]
    entry: dict[str, Any] = {
        "id": conversation_id,
        "shortId": short_id(conversation_id),
        "firstPageParticipant": {
            "participants": [
                {"sec_uid": owner["sec_uid"], "nick_name": owner["nickname"]},
                {"sec_uid": peer["sec_uid"], "nick_name": peer["nickname"]},
            ]
        },
        "_badgeCount": conversation["unread"],
        "coreInfo": {
            "lastMessage": {
                "content": json.dumps(message_content(last), ensure_ascii=False) if last else "",
                "createdTime": last["created_ms"] // 1000 if last else 0,
            }
        },
    }
    entry["_lastMessage"] = store_message(world, last, time_key=time_key) if last else None
    return entry


def store_user(world: World, uid: str) -> dict[str, Any]:
    """A `userInfoFromServerMap` entry."""
    user = world.users[uid]
    return {
        "uid": user["uid"],
        "sec_uid": user["sec_uid"],
        "nickname": user["nickname"],
        "unique_id": user.get("unique_id") or "",
        "avatar_thumb": avatar_thumb(user["avatar"]),
    }

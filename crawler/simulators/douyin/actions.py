"""What happens in a simulated world: replies and DMs sent through the pages, injected and live items,
and the ground truth that tests compare against.
"""

from __future__ import annotations

import time
from typing import Any

from . import data, render
from .data import World
from .state import SimError, SimState

REFUSED_DEFAULT = "作品已设为私密，暂时无法评论"
THROTTLED = {"status_code": 8, "status_msg": "评论失败，请稍后重试"}  # a refused post, not a logout
DM_FAIL_CODE = 7179
DM_FAIL_MSG = "发送失败，对方已设置隐私权限"


def comment_count(world: World, aweme_id: str) -> int:
    tops = world.top_level.get(aweme_id, [])
    return len(tops) + sum(len(world.replies.get(cid, [])) for cid in tops)


def comment_reply(state: SimState, world: World, *, item_id: str, reply_id: str, text: str) -> dict[str, Any]:
    """The page's 发送 on a comment editor: refused (status_code != 0) or a new comment by the author,
    answered as captured (`comment_info` with the plain `comment_id`, no work id)."""
    text = text.strip()
    work = next((w for w in world.works if w["aweme_id"] == item_id), None)
    if work is None:
        return {"status_code": 2001, "status_msg": "作品不存在"}
    if not text:
        return {"status_code": 2002, "status_msg": "评论内容不能为空"}
    if state.faults.for_uid(state.faults.reply_throttle, world.owner["uid"]):
        state.log_event("comment_reply_throttled", uid=world.owner["uid"], aweme_id=item_id, text=text)
        return dict(THROTTLED)
    if item_id in state.faults.refuse:
        state.log_event("comment_reply_refused", uid=world.owner["uid"], aweme_id=item_id, text=text)
        return {"status_code": 2060, "status_msg": state.faults.refuse[item_id]}
    parent, target = None, None
    if reply_id and reply_id != "0":
        replied = world.comments.get(reply_id)
        if replied is None or replied["aweme_id"] != item_id:
            return {"status_code": 2003, "status_msg": "评论已删除"}
        parent = replied["reply_id"] if replied["level"] == 2 else replied["cid"]
        target = replied["cid"] if replied["level"] == 2 else None
    comment = data.new_comment(
        world=world,
        rng=state.rng,
        ids=state.ids,
        aweme_id=item_id,
        create_time=int(time.time()),
        parent=parent,
        user_uid=world.owner["uid"],
        text=text,
        reply_to_reply=target,
    )
    comment["ip_label"] = "广东"
    state.log_event(
        "comment_reply",
        uid=world.owner["uid"],
        aweme_id=item_id,
        reply_id=reply_id,
        cid=comment["cid"],
        text=text,
    )
    return {"status_code": 0, "status_msg": "", "comment_info": render.reply_answer(world, comment)}


def message_send(state: SimState, world: World, *, conversation_id: str, text: str) -> dict[str, Any]:
    """The chat page's 发送: a new message from the account, or a failure when DM faults are on."""
    conversation = world.conversations.get(conversation_id)
    text = text.strip()
    if conversation is None:
        return {"status_code": 7001, "status_msg": "会话不存在"}
    if not text:
        return {"status_code": 7002, "status_msg": "消息不能为空"}
    uid = world.owner["uid"]
    if uid in state.faults.dm_fail or "*" in state.faults.dm_fail:
        state.log_event("message_send_failed", uid=uid, conversation_id=conversation_id, text=text)
        return {"status_code": DM_FAIL_CODE, "status_msg": DM_FAIL_MSG}
    message = data.new_message(
        world=world,
        rng=state.rng,
        ids=state.ids,
        conversation=conversation,
        created_ms=int(time.time() * 1000),
        from_me=True,
        text=text,
    )
    state.log_event(
        "message_send", uid=uid, conversation_id=conversation_id, server_id=message["serverId"], text=text
    )
    state.push_add(uid, {"kind": "message", "message": message, "conversation": conversation})
    # the peer has the chat open: its read receipt (type 50001) follows through the push, never stored
    receipt = data.read_receipt(
        world=world, ids=state.ids, conversation=conversation, created_ms=message["created_ms"] + 1
    )
    state.push_add(uid, {"kind": "message", "message": receipt, "conversation": conversation})
    surface = state.surface_of(uid)
    return {"status_code": 0, "status_msg": "", "message": render.message_props(world, message, surface)}


def comment_inject(
    state: SimState,
    world: World,
    *,
    aweme_id: str | None = None,
    reply_to: str | None = None,
    text: str | None = None,
    media: str | None = None,
) -> dict[str, Any]:
    """A new comment by a fan (on `aweme_id`, or as a reply to comment `reply_to`); `media` "image" or
    "sticker" makes it an image or sticker comment with empty text."""
    if media not in (None, "image", "sticker"):
        raise SimError(400, "media must be image or sticker")
    rng = state.rng
    parent, target = None, None
    if reply_to:
        replied = world.comments.get(reply_to)
        if replied is None:
            raise SimError(404, f"unknown comment {reply_to}")
        aweme_id = replied["aweme_id"]
        parent = replied["reply_id"] if replied["level"] == 2 else replied["cid"]
        target = replied["cid"] if replied["level"] == 2 else None
    if aweme_id is None:
        if not world.works:
            raise SimError(409, "the account has no works")
        aweme_id = rng.choice(world.works[: max(1, len(world.works) // 3)])["aweme_id"]
    if aweme_id not in world.top_level:
        raise SimError(404, f"unknown work {aweme_id}")
    comment = data.new_comment(
        world=world,
        rng=rng,
        ids=state.ids,
        aweme_id=aweme_id,
        create_time=int(time.time()),
        parent=parent,
        text="" if media else text,
        reply_to_reply=target,
    )
    if media == "image":
        comment["images"] = [{"url": data.image_url(comment["cid"]), "width": 1080, "height": 1440}]
    elif media == "sticker":
        comment["sticker"] = {"id": "3601", "url": data.sticker_url("3601"), "width": 240, "height": 240}
    feed = state.push_feed(world.owner["uid"])  # a fan's comment: the comment notice count goes up
    feed.notices += 1
    state.push_add(world.owner["uid"], {"kind": "notice", "group": "7", "count": feed.notices})
    return {
        "cid": comment["cid"],
        "aweme_id": aweme_id,
        "reply_id": comment["reply_id"],
        "text": comment["text"],
    }


def message_inject(
    state: SimState,
    world: World,
    *,
    conversation_id: str | None = None,
    text: str | None = None,
    media: str | None = None,
) -> dict[str, Any]:
    """A new DM from a fan (in `conversation_id`, or in a random one, sometimes a new conversation);
    `media` (sticker, image, voice, video) makes it that media message with empty text."""
    if (media is not None and media not in data.MESSAGE_TYPE) or media == "text":
        raise SimError(400, "media must be sticker, image, voice or video")
    rng = state.rng
    if conversation_id:
        conversation = world.conversations.get(conversation_id)
        if conversation is None:
            raise SimError(404, f"unknown conversation {conversation_id}")
    else:
        strangers = [
            uid
            for uid in world.fans
            if data.conversation_id_for(world.owner["uid"], uid) not in world.conversations
        ]
        if strangers and (rng.random() < 0.2 or not world.conversations):
            conversation = data.new_conversation(world=world, peer_uid=rng.choice(strangers))
        else:
            conversation = rng.choice(list(world.conversations.values()))
    message = data.new_message(
        world=world,
        rng=rng,
        ids=state.ids,
        conversation=conversation,
        created_ms=int(time.time() * 1000),
        from_me=False,
        text=text,
        media=media,
    )
    state.push_add(world.owner["uid"], {"kind": "message", "message": message, "conversation": conversation})
    return {
        "server_id": message["serverId"],
        "conversation_id": conversation["conversation_id"],
        "text": message["text"],
        "kind": message["kind"],
    }


def live_tick(state: SimState, *, now: float | None = None) -> int:
    """Create the live items due since live mode started (comments and DMs alternate). Returns how many."""
    if state.live_rate <= 0:
        return 0
    now = now if now is not None else time.time()
    due = int((now - state.live_since) * state.live_rate / 60)
    made = 0
    for uid, world in state.worlds.items():
        done = state.live_done.get(uid, 0)
        for n in range(done, due):
            if n % 2 == 0:
                comment_inject(state, world)
            else:
                message_inject(state, world)
            made += 1
        state.live_done[uid] = max(done, due)
    return made


def live_set(state: SimState, *, rate: float) -> None:
    live_tick(state)
    state.live_rate = max(0.0, rate)
    state.live_since = time.time()
    state.live_done = {}


def account_summary(world: World) -> dict[str, Any]:
    return {
        "uid": world.owner["uid"],
        "sec_uid": world.owner["sec_uid"],
        "unique_id": world.unique_id,
        "nickname": world.owner["nickname"],
        "counts": truth_counts(world),
    }


def fan_comments(world: World) -> list[dict[str, Any]]:
    """Comments by others than the account, newest first: what the notice API lists."""
    owner = world.owner["uid"]
    found = [c for c in world.comments.values() if c["user_uid"] != owner]
    return sorted(found, key=lambda c: (c["create_time"], c["cid"]), reverse=True)


def truth_counts(world: World) -> dict[str, int]:
    replies = sum(len(v) for v in world.replies.values())
    messages = sum(1 for c in world.conversations.values() for m in c["messages"] if m["aweType"] != 701)
    return {
        "contents": len(world.works),
        "comments": len(world.comments),
        "top_level_comments": len(world.comments) - replies,
        "replies": replies,
        "conversations": len(world.conversations),
        "messages": messages,
        "notices": len(fan_comments(world)),
    }


def truth(world: World, *, full: bool = False, surface: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Ground truth for one account: ids (and parents) of everything; `full` adds the rendered records.
    A comment's `served_id` is its id as the account's surface serves it (encrypted under
    `comment_list_v2`, else the `cid`)."""
    served = render.id_encrypt if "comment_list_v2" in surface else str
    result: dict[str, Any] = {
        "uid": world.owner["uid"],
        "counts": truth_counts(world),
        "contents": [w["aweme_id"] for w in world.works],
        "content_types": {w["aweme_id"]: w["aweme_type"] for w in world.works},
        "comments": [
            {
                "cid": c["cid"],
                "served_id": served(c["cid"]),
                "aweme_id": c["aweme_id"],
                "reply_id": c["reply_id"],
                "level": c["level"],
                "text": c["text"],
                "media": "image" if c.get("images") else "sticker" if c.get("sticker") else None,
            }
            for c in world.comments.values()
        ],
        "conversations": [
            {
                "conversation_id": cid,
                "peer_uid": c["peer_uid"],
                "peer_nickname": world.users[c["peer_uid"]]["nickname"],
                "messages": sum(1 for m in c["messages"] if m["aweType"] != 701),
            }
            for cid, c in world.conversations.items()
        ],
        "messages": [
            {
                "server_id": m["serverId"],
                "conversation_id": m["conversationId"],
                "is_from_me": m["isFromMe"],
                "kind": m["kind"],
                "media": m["media"],
            }
            for c in world.conversations.values()
            for m in c["messages"]
            if m["aweType"] != 701
        ],
    }
    if full:
        result["records"] = {
            "contents": [
                render.work_item(world, w, comment_count(world, w["aweme_id"])) for w in world.works
            ],
            "comments": [
                render.comment_item(world, c, len(world.replies.get(c["cid"], [])))
                for c in world.comments.values()
            ],
            "messages": [
                render.message_props(world, m) for c in world.conversations.values() for m in c["messages"]
            ],
        }
    return result

"""Seeded generator of one simulated creator's world: profile, fans, works, comments, conversations, DMs.

Everything is plain dicts (internal shape, rendered to the platform's shapes by `render.py`). The same
seed and sizes give the same ids and texts; times are relative to the simulator's start.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from . import vocab

DAY = 86400
# aweme_type: 0 and 4 are videos; 2, 68 and 150 image posts; 101 stands for a type no adapter knows
# (sim). The newest works of an account take these in order, so every kind is served by default.
WORK_TYPES = (0, 4, 68, 2, 150, 101)
IMAGE_TYPES = frozenset({2, 68, 150})
IMAGE_COMMENT_RATE, STICKER_COMMENT_RATE = 0.06, 0.04  # of generated comments (text often empty)
# Message `type` per kind (7 text; 1 a system notice, aweType 701); read receipts are 50001.
MESSAGE_TYPE = {"text": 7, "sticker": 5, "voice": 17, "image": 27, "video": 8}
RECEIPT_TYPE = 50001
# Of a fan's generated DMs, these shares are media (their text empty), decided per message id so the
# rest of an account's history stays what the seed made before media existed.
MESSAGE_MEDIA_RATES = (("sticker", 0.03), ("image", 0.03), ("voice", 0.01), ("video", 0.01))


@dataclass(frozen=True)
class Sizes:
    """How much history each simulated account has."""

    works: int = 30
    comments: int = 600
    conversations: int = 60
    messages: int = 900


class IdMaker:
    """Numeric-string ids shaped like Douyin's (19 digits with a fixed lead), unique per simulator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def make(self, lead: str, digits: int = 19) -> str:
        while True:
            value = lead + str(
                self._rng.randrange(10 ** (digits - len(lead) - 1), 10 ** (digits - len(lead)))
            )
            if value not in self._seen:
                self._seen.add(value)
                return value


def sec_uid_for(uid: str) -> str:
    digest = hashlib.sha256(f"sec:{uid}".encode()).digest() + hashlib.sha256(f"uid:{uid}".encode()).digest()
    return "MS4wLjABAAAA" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:52]


def avatar_url(uid: str) -> str:
    key = hashlib.md5(uid.encode()).hexdigest()
    return f"https://p3-pc.douyinpic.com/aweme/100x100/aweme-avatar/tos-cn-avt-0015_{key}.jpeg"


def cover_url(aweme_id: str) -> str:
    key = hashlib.md5(aweme_id.encode()).hexdigest()
    return f"https://p3-pc-sign.douyinpic.com/tos-cn-p-0015/{key}~tplv-dy-cropcenter:323:430.jpeg"


def make_user(*, rng: random.Random, ids: IdMaker, nickname: str | None = None) -> dict[str, Any]:
    uid = ids.make("", digits=rng.choice((11, 11, 16)))
    name = nickname or (
        rng.choice(vocab.NICK_HEAD) + rng.choice(vocab.NICK_BODY) + rng.choice(vocab.NICK_TAIL)
    )
    return {
        "uid": uid,
        "sec_uid": sec_uid_for(uid),
        "nickname": name,
        "avatar": avatar_url(uid),
        "signature": rng.choice(vocab.SIGNATURES),
    }


def image_url(key: str) -> str:
    digest = hashlib.md5(key.encode()).hexdigest()
    return f"https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/{digest}~tplv-dy-comment-origin.jpeg"


def sticker_url(sticker_id: str) -> str:
    return f"https://p3-pc-sign.douyinpic.com/obj/tos-cn-i-0004/sticker_{sticker_id}.webp"


def comment_media(rng: random.Random, key: str) -> dict[str, Any]:
    """What a generated comment carries besides text: sometimes an image (text mostly empty) or a
    sticker (text empty), as comments on the real site do."""
    roll = rng.random()
    if roll < IMAGE_COMMENT_RATE:
        return {
            "images": [{"url": image_url(key), "width": rng.choice((720, 1080)), "height": 1440}],
            "text": "" if rng.random() < 0.7 else None,
        }
    if roll < IMAGE_COMMENT_RATE + STICKER_COMMENT_RATE:
        sticker_id = str(rng.randrange(10**6, 10**7))
        return {
            "sticker": {"id": sticker_id, "url": sticker_url(sticker_id), "width": 240, "height": 240},
            "text": "",
        }
    return {}


def message_media(kind: str, key: str) -> dict[str, Any]:
    """A media DM's part, seeded by `key`: sticker, image, voice clip or shared video."""
    rng = random.Random(f"media:{key}")
    digest = hashlib.md5(key.encode()).hexdigest()
    if kind == "sticker":
        sticker_id = str(rng.randrange(10**6, 10**7))
        return {"url": sticker_url(sticker_id), "width": 240, "height": 240}
    if kind == "image":
        return {
            "url": f"https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/{digest}~tplv-dy-im-origin.jpeg",
            "thumb_url": f"https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/{digest}~tplv-dy-im-medium.jpeg",
            "width": rng.choice((720, 1080)),
            "height": rng.choice((960, 1440)),
        }
    if kind == "voice":
        return {
            "url": f"https://v3-dy-o.zjcdn.com/{digest}/im-voice.mp3",
            "duration_ms": rng.randint(1, 60) * 1000,
        }
    if kind == "video":
        item_id = "73" + str(rng.randrange(10**16, 10**17))
        return {
            "item_id": item_id,
            "thumb_url": f"https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/{digest}~tplv-dy-cover.jpeg",
            "title": "分享一个视频",
        }
    raise ValueError(f"unknown message media {kind!r}")


def message_media_pick(key: str) -> str | None:
    roll = random.Random(f"media-roll:{key}").random()
    for kind, rate in MESSAGE_MEDIA_RATES:
        if roll < rate:
            return kind
        roll -= rate
    return None


def sprinkle_emoji(text: str, rng: random.Random) -> str:
    if rng.random() < 0.45:
        return text + "".join(rng.choice(vocab.EMOJI) for _ in range(rng.randint(1, 3)))
    return text


def comment_text(rng: random.Random) -> str:
    return sprinkle_emoji(rng.choice(vocab.COMMENT_LINES), rng)


def reply_text(rng: random.Random) -> str:
    return sprinkle_emoji(rng.choice(vocab.REPLY_LINES), rng)


def dm_text(rng: random.Random, *, from_me: bool) -> str:
    return sprinkle_emoji(rng.choice(vocab.DM_FROM_ME if from_me else vocab.DM_FROM_FAN), rng)


@dataclass
class World:
    """One creator account's data (internal shape)."""

    index: int
    owner: dict[str, Any]
    unique_id: str
    follower_count: int
    following_count: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    fans: list[str] = field(default_factory=list)
    works: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    top_level: dict[str, list[str]] = field(default_factory=dict)  # aweme_id -> cids, newest first
    replies: dict[str, list[str]] = field(default_factory=dict)  # parent cid -> cids, oldest first
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)


def conversation_id_for(uid_a: str, uid_b: str) -> str:
    low, high = sorted((uid_a, uid_b), key=int)
    return f"0:1:{low}:{high}"


def work_type_pick(rng: random.Random, index: int) -> int:
    """The newest works take every kind in turn (WORK_TYPES); later ones are mostly videos."""
    if index < len(WORK_TYPES):
        return WORK_TYPES[index]
    roll = rng.random()
    return 68 if roll < 0.12 else 2 if roll < 0.16 else 150 if roll < 0.2 else 4 if roll < 0.26 else 0


def new_work(
    *, world: World, rng: random.Random, ids: IdMaker, create_time: int, aweme_type: int = 0
) -> dict[str, Any]:
    topic = rng.choice(vocab.TOPICS)
    title = rng.choice(vocab.TITLE_PARTS).format(t=topic, n=rng.randint(2, 100))
    tags = rng.sample(vocab.TOPICS, 2)
    image_post = aweme_type in IMAGE_TYPES
    play = int(rng.paretovariate(1.3) * 800)
    work: dict[str, Any] = {
        "aweme_id": ids.make("73"),
        "desc": title + " " + " ".join(f"#{t}" for t in tags),
        "hashtags": tags,
        "create_time": create_time,
        "aweme_type": aweme_type,
        "duration": 0 if image_post else rng.randint(7, 300) * 1000 + rng.randint(0, 999),
        "width": 1080,
        "height": 1440 if image_post else 1920,
        "is_top": 0,
        "play_count": play,
        "digg_count": int(play * rng.uniform(0.02, 0.12)),
        "share_count": int(play * rng.uniform(0.001, 0.02)),
        "collect_count": int(play * rng.uniform(0.005, 0.04)),
        "avg_view_second": round(rng.uniform(3, 40), 1),
        "completion_rate": round(rng.uniform(0.05, 0.6), 4),
    }
    world.works.append(work)
    world.top_level[work["aweme_id"]] = []
    return work


def new_comment(
    *,
    world: World,
    rng: random.Random,
    ids: IdMaker,
    aweme_id: str,
    create_time: int,
    parent: str | None = None,
    user_uid: str | None = None,
    text: str | None = None,
    reply_to_reply: str | None = None,
) -> dict[str, Any]:
    """Add a comment (top level when `parent` is None) and return it; lists stay in display order."""
    by_author = user_uid == world.owner["uid"]
    uid = user_uid or rng.choice(world.fans)
    target = world.comments.get(reply_to_reply) if reply_to_reply else None
    cid = ids.make("74")
    media = comment_media(rng, cid) if text is None and not by_author else {}
    if media.get("text") is not None:
        text = media["text"]
    comment = {
        "cid": cid,
        "aweme_id": aweme_id,
        "text": text if text is not None else (reply_text(rng) if parent else comment_text(rng)),
        "images": media.get("images") or [],
        "sticker": media.get("sticker"),
        "create_time": create_time,
        "digg_count": int(rng.paretovariate(1.6)) - 1,
        "reply_id": parent or "0",
        "reply_to_reply_id": target["cid"] if target else "0",
        "reply_to_userid": target["user_uid"] if target else "0",
        "reply_to_username": world.users[target["user_uid"]]["nickname"] if target else "",
        "user_uid": uid,
        "is_author": by_author,
        "level": 2 if parent else 1,
        "ip_label": rng.choice(vocab.PROVINCES),
    }
    world.comments[comment["cid"]] = comment
    if parent:
        world.replies.setdefault(parent, []).append(comment["cid"])
    else:
        world.top_level[aweme_id].insert(0, comment["cid"])
    return comment


def new_message(
    *,
    world: World,
    rng: random.Random,
    ids: IdMaker,
    conversation: dict[str, Any],
    created_ms: int,
    from_me: bool,
    text: str | None = None,
    notice: bool = False,
    media: str | None = None,
    generated: bool = False,
) -> dict[str, Any]:
    """A new message in `conversation`: text, a system notice, or `media` (sticker, image, voice, video;
    text empty). `generated` history from a fan is sometimes media (MESSAGE_MEDIA_RATES)."""
    owner_uid = world.owner["uid"]
    peer_uid = conversation["peer_uid"]
    server_id = ids.make("75")
    body = (
        vocab.MUTUAL_FOLLOW_TEXT if notice else (text if text is not None else dm_text(rng, from_me=from_me))
    )
    if generated and not notice and not from_me and media is None:
        media = message_media_pick(server_id)
    kind = "text" if media is None else media
    message = {
        "serverId": server_id,
        "conversationId": conversation["conversation_id"],
        "sender": owner_uid if from_me else peer_uid,
        "receiver": peer_uid if from_me else owner_uid,
        "isFromMe": from_me,
        "type": 1 if notice else MESSAGE_TYPE[kind],
        "kind": "notice" if notice else kind,
        "text": "" if media else body,
        "media": message_media(media, server_id) if media else None,
        "aweType": 701 if notice else 700,
        "created_ms": created_ms,
    }
    conversation["messages"].append(message)
    if not notice and not from_me:
        conversation["unread"] += 1
    if from_me:
        conversation["unread"] = 0
    return message


def read_receipt(
    *, world: World, ids: IdMaker, conversation: dict[str, Any], created_ms: int
) -> dict[str, Any]:
    """The peer's read receipt for the account's messages (type 50001): pushed, never in the history."""
    return {
        "serverId": ids.make("76"),
        "conversationId": conversation["conversation_id"],
        "sender": conversation["peer_uid"],
        "receiver": world.owner["uid"],
        "isFromMe": False,
        "type": RECEIPT_TYPE,
        "kind": "receipt",
        "text": "",
        "media": None,
        "aweType": 0,
        "created_ms": created_ms,
    }


def new_conversation(*, world: World, peer_uid: str) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "conversation_id": conversation_id_for(world.owner["uid"], peer_uid),
        "peer_uid": peer_uid,
        "messages": [],
        "unread": 0,
    }
    world.conversations[conversation["conversation_id"]] = conversation
    return conversation


def _split(total: int, parts: int, rng: random.Random, *, minimum: int = 0) -> list[int]:
    """Split `total` into `parts` skewed shares (a few works get most comments, as on the real site)."""
    if parts <= 0:
        return []
    weights = [rng.paretovariate(1.2) for _ in range(parts)]
    scale = sum(weights)
    shares = [max(minimum, int(total * w / scale)) for w in weights]
    diff = total - sum(shares)
    i = 0
    while diff != 0 and parts:
        j = i % parts
        if diff > 0:
            shares[j] += 1
            diff -= 1
        elif shares[j] > minimum:
            shares[j] -= 1
            diff += 1
        i += 1
    return shares


def generate_world(*, seed: int, index: int, sizes: Sizes, now: int, ids: IdMaker) -> World:
    """Build account `index` of simulator `seed` with `sizes` of history ending at `now` (epoch s)."""
    rng = random.Random(f"douyin:{seed}:{index}")
    name = vocab.CREATOR_NAMES[index % len(vocab.CREATOR_NAMES)]
    if index >= len(vocab.CREATOR_NAMES):
        name += str(index // len(vocab.CREATOR_NAMES) + 1)
    owner = make_user(rng=rng, ids=ids, nickname=name)
    world = World(
        index=index,
        owner=owner,
        unique_id=f"dy{rng.randrange(10**8, 10**9)}",
        follower_count=rng.randint(800, 2_000_000),
        following_count=rng.randint(20, 900),
    )
    world.users[owner["uid"]] = owner
    fan_count = max(50, sizes.conversations + sizes.comments // 3)
    for _ in range(fan_count):
        fan = make_user(rng=rng, ids=ids)
        world.users[fan["uid"]] = fan
        world.fans.append(fan["uid"])

    # Works: one every 1-8 days going back from now, stored newest first; one pinned.
    when = now - rng.randint(3600, 3 * DAY)
    for index in range(sizes.works):
        new_work(world=world, rng=rng, ids=ids, create_time=when, aweme_type=work_type_pick(rng, index))
        when -= rng.randint(DAY, 8 * DAY) + rng.randint(0, DAY)
    if world.works:
        world.works[min(2, len(world.works) - 1)]["is_top"] = 1

    shares = _split(sizes.comments, len(world.works), rng)
    for work, share in zip(world.works, shares, strict=True):
        _fill_comments(world=world, rng=rng, ids=ids, work=work, count=share, now=now)

    peers = rng.sample(world.fans, min(sizes.conversations, len(world.fans)))
    per_conversation = _split(sizes.messages, len(peers), rng, minimum=1)
    for peer_uid, count in zip(peers, per_conversation, strict=True):
        _fill_messages(world=world, rng=rng, ids=ids, peer_uid=peer_uid, count=count, now=now)
    return world


def _fill_comments(
    *, world: World, rng: random.Random, ids: IdMaker, work: dict[str, Any], count: int, now: int
) -> None:
    start = work["create_time"]
    span = max(60, now - start)
    times = sorted(start + int(span * rng.random() ** 2.5) for _ in range(count))
    tops: list[str] = []
    for i, at in enumerate(times):
        if not tops or rng.random() < 0.62 or i == 0:
            tops.append(
                new_comment(world=world, rng=rng, ids=ids, aweme_id=work["aweme_id"], create_time=at)["cid"]
            )
            continue
        parent = rng.choice(tops[-8:]) if rng.random() < 0.7 else rng.choice(tops)
        thread = world.replies.get(parent, [])
        by_author = rng.random() < 0.22
        target = rng.choice(thread) if thread and rng.random() < 0.35 else None
        new_comment(
            world=world,
            rng=rng,
            ids=ids,
            aweme_id=work["aweme_id"],
            create_time=max(at, world.comments[parent]["create_time"] + 1),
            parent=parent,
            user_uid=world.owner["uid"] if by_author else None,
            reply_to_reply=target,
        )


def _fill_messages(
    *, world: World, rng: random.Random, ids: IdMaker, peer_uid: str, count: int, now: int
) -> None:
    conversation = new_conversation(world=world, peer_uid=peer_uid)
    start_ms = (now - rng.randint(20 * DAY, 200 * DAY)) * 1000
    if rng.random() < 0.3:
        new_message(
            world=world,
            rng=rng,
            ids=ids,
            conversation=conversation,
            created_ms=start_ms,
            from_me=False,
            notice=True,
        )
    span = now * 1000 - start_ms
    times = sorted(start_ms + 1000 + int(span * rng.random() ** 1.5) for _ in range(count))
    from_me = False
    for at in times:
        new_message(
            world=world,
            rng=rng,
            ids=ids,
            conversation=conversation,
            created_ms=min(at, now * 1000),
            from_me=from_me,
            generated=True,
        )
        from_me = rng.random() < 0.45
    conversation["messages"].sort(key=lambda m: m["created_ms"])

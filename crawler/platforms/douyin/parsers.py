"""Pure parsers: Douyin's raw JSON (API bodies and fiber props) -> `datasync.protocol` records.

Units are converted here, once: `create_time` seconds -> epoch ms, ISO 8601 -> epoch ms, string
counters -> int, `has_more` 0/1/bool -> bool. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.errors import CrawlError, LoginExpired, RiskDetected
from crawler.platforms.douyin import locators
from datasync.protocol import Comment, Content, Conversation, Message, Person, Profile, ReplyTo, Stats

CONTENT_TYPES = {0: "video", 4: "live", 68: "image", 2: "image", 150: "image"}
NOTICE_AWE_TYPE = 701


def as_int(value: Any, default: int = 0) -> int:
    """Numbers that the platform sends as numbers or strings ("12", "1.0"); None/'' -> default."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value)))
    except ValueError:
        return default


def seconds_to_ms(value: Any) -> int:
    return as_int(value) * 1000


def iso_to_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def has_more(value: Any) -> bool:
    return bool(as_int(value))


def _first_url(container: Any) -> str:
    if isinstance(container, dict):
        urls = container.get("url_list") or []
        return str(urls[0]) if urls else ""
    return ""


def api_body_check(*, body: Any, what: str) -> dict[str, Any]:
    """The body of a platform API answer, or the error it signals (empty = risk, code 8 = logged out)."""
    if not isinstance(body, dict) or not body:
        raise RiskDetected(f"{what}: empty body (risk control)")
    code = as_int(body.get("status_code"), 0)
    if code in locators.LOGIN_REQUIRED_CODES:
        raise LoginExpired(f"{what}: {body.get('status_msg') or 'login required'} ({code})")
    if code in locators.RISK_CODES:
        raise RiskDetected(f"{what}: {body.get('status_msg') or 'risk'} ({code})")
    if code != 0:
        raise CrawlError(f"{what}: status_code {code} {body.get('status_msg') or ''}".strip())
    return body


def work_parse(*, aweme: dict[str, Any], metrics: dict[str, Any] | None = None) -> Content:
    """One `aweme_list` entry (+ its `items[i].metrics`, which win over `statistics`)."""
    statistics = aweme.get("statistics") or {}
    metrics = metrics or {}

    def stat(metric: str, statistic: str) -> int:
        if metrics.get(metric) not in (None, ""):
            return as_int(metrics.get(metric))
        return as_int(statistics.get(statistic))

    status = aweme.get("status") or {}
    return Content(
        content_id=str(aweme["aweme_id"]),
        type=CONTENT_TYPES.get(as_int(aweme.get("aweme_type")), "video"),  # type: ignore[arg-type]
        title=str(aweme.get("desc") or ""),
        description=str(aweme.get("desc") or ""),
        cover_url=_first_url((aweme.get("video") or {}).get("cover")),
        url=str(aweme.get("share_url") or ""),
        published_at=seconds_to_ms(aweme.get("create_time")),
        stats=Stats(
            views=stat("view_count", "play_count"),
            likes=stat("like_count", "digg_count"),
            comments=stat("comment_count", "comment_count"),
            shares=stat("share_count", "share_count"),
            favorites=stat("favorite_count", "collect_count"),
        ),
        visibility="private" if status.get("is_private") else "public",
    )


def work_list_parse(*, body: dict[str, Any]) -> tuple[list[Content], bool]:
    """A `work_list` body -> (works, has_more)."""
    body = api_body_check(body=body, what="work_list")
    awemes = body.get("aweme_list") or []
    items = body.get("items") or []
    works = []
    for index, aweme in enumerate(awemes):
        item = items[index] if index < len(items) and isinstance(items[index], dict) else {}
        works.append(work_parse(aweme=aweme, metrics=item.get("metrics")))
    return works, has_more(body.get("has_more"))


def comment_parse(*, raw: dict[str, Any]) -> Comment:
    """One comment of a comment or reply list."""
    user = raw.get("user") or {}
    reply_id = str(raw.get("reply_id") or "0")
    reply_to_id = str(raw.get("reply_to_userid") or "")
    reply_to = None
    if reply_to_id not in ("", "0") and raw.get("reply_to_username"):
        reply_to = ReplyTo(id=reply_to_id, nickname=str(raw.get("reply_to_username") or ""))
    return Comment(
        comment_id=str(raw["cid"]),
        content_id=str(raw["aweme_id"]),
        parent_id=None if reply_id == "0" else reply_id,
        author=Person(
            id=str(user.get("uid") or ""),
            sec_uid=str(user.get("sec_uid") or ""),
            nickname=str(user.get("nickname") or ""),
            avatar_url=_first_url(user.get("avatar_thumb")),
        ),
        text=str(raw.get("text") or ""),
        created_at=seconds_to_ms(raw.get("create_time")),
        likes=as_int(raw.get("digg_count")),
        reply_count=as_int(raw.get("reply_comment_total")),
        is_author=raw.get("label_text") == "作者",
        reply_to=reply_to,
        ip_label=str(raw.get("ip_label") or ""),
    )


def comment_list_parse(*, body: dict[str, Any]) -> tuple[list[Comment], bool]:
    """A comment (or reply) list body -> (comments, has_more)."""
    body = api_body_check(body=body, what="comment list")
    comments = [comment_parse(raw=raw) for raw in body.get("comments") or []]
    return comments, has_more(body.get("has_more"))


def user_detail_parse(*, body: dict[str, Any]) -> dict[str, Person]:
    """A `user_detail` body -> peers by uid."""
    body = api_body_check(body=body, what="user_detail")
    people = {}
    for entry in body.get("user_list") or []:
        user = entry.get("user") or {}
        uid = str(entry.get("user_id") or user.get("uid") or "")
        if uid:
            people[uid] = Person(
                id=uid,
                sec_uid=str(user.get("sec_uid") or ""),
                nickname=str(user.get("nickname") or ""),
                avatar_url=_first_url(user.get("avatar_thumb")),
            )
    return people


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
        created_at=iso_to_ms(str(props["createdAt"])),
    )


def conversation_parse(*, props: dict[str, Any], people: dict[str, Person]) -> Conversation:
    """A conversation row's fiber props (+ peers from `user_detail`) -> a conversation."""
    peer = props.get("peer") or {}
    uid = str(peer.get("uid") or "")
    known = people.get(uid)
    last = props.get("lastMessage") or {}
    updated = last.get("createdAt") or props.get("updatedAt")
    return Conversation(
        conversation_id=str(props["conversationId"]),
        peer=Person(
            id=uid,
            sec_uid=str(peer.get("secUid") or (known.sec_uid if known else "")),
            nickname=str(peer.get("nickname") or (known.nickname if known else "")),
            avatar_url=str(peer.get("avatar") or (known.avatar_url if known else "")),
        ),
        last_message_at=iso_to_ms(str(updated)) if updated else None,
        last_message_preview=str((last.get("content") or {}).get("text") or ""),
        platform_unread=as_int(props.get("unreadCount")),
    )


def short_count_parse(text: str) -> int | None:
    """Counts as the home page shows them: "987", "1.2w", "3.4万" -> int; None when unreadable."""
    text = text.strip().lower()
    if not text:
        return None
    factor = 10000 if text[-1] in ("w", "万") else 1
    try:
        return round(float(text.rstrip("w万")) * factor)
    except ValueError:
        return None


def profile_parse(
    *, unique_id_text: str, nickname: str, avatar_url: str, followers: str = "", following: str = ""
) -> Profile:
    """The home page's profile texts -> a profile."""
    match = locators.UNIQUE_ID_RE.search(unique_id_text)
    return Profile(
        platform_user_id=match.group(1) if match else "",
        nickname=nickname.strip(),
        avatar_url=avatar_url,
        followers=short_count_parse(followers),
        following=short_count_parse(following),
    )

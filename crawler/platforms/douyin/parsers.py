"""Pure parsers: Douyin's raw JSON (API bodies and fiber props) -> `datasync.protocol` records.

Units are converted here, once: times in seconds or milliseconds (told apart by magnitude), numeric
strings or ISO 8601 -> epoch ms; string counters -> int; `has_more` 0/1/bool -> bool. Every known
form of a field is accepted (see the variants in docs/architecture.md).

A page body whose shape is unknown raises `SurfaceChanged` naming the field; one record that does not
parse never drops the rest of its page: it is skipped and reported as a `DriftNote` in `Parsed.skipped`.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from crawler.errors import CrawlError, LoginExpired, RiskDetected, SurfaceChanged
from crawler.platforms import DriftNote
from crawler.platforms.douyin import locators
from datasync.protocol import (
    Comment,
    Content,
    Conversation,
    Message,
    Notification,
    Person,
    Profile,
    ReplyTo,
    Stats,
)

CONTENT_TYPES = {0: "video", 4: "live", 68: "image", 2: "image", 150: "image"}
NOTICE_AWE_TYPE = 701
MS_THRESHOLD = 100_000_000_000  # epoch values above this are milliseconds (year 1973 in ms, 5138 in s)
NOTICE_TYPES = {31: "comment", 33: "comment_reply", 41: "like", 45: "mention"}
T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    """One page of records, whether more pages follow, and the records skipped (with why)."""

    records: list[T]
    has_more: bool = False
    skipped: list[DriftNote] = field(default_factory=list)


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


def epoch_ms(value: Any, *, field: str = "time") -> int:
    """A time as epoch ms from seconds or ms (by magnitude, number or numeric string) or ISO 8601;
    ValueError naming `field` for anything else."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError(f"{field} is not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            try:
                return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                raise ValueError(f"{field} is not a time: {value!r}") from None
    if number <= 0:
        raise ValueError(f"{field} is not a time: {value!r}")
    return int(number) if number >= MS_THRESHOLD else int(number * 1000)


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


def body_list(*, body: dict[str, Any], what: str, keys: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The first of `keys` that holds a list. An empty page may carry null (or nothing) there, but
    then says so (`has_more` 0 and no total); anything else is SurfaceChanged naming the field."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, list):
            return key, value
    says_empty = "has_more" in body and not has_more(body.get("has_more"))
    no_total = as_int(body.get("total"), 0) == 0 and as_int(body.get("total_count"), 0) == 0
    if all(body.get(key) is None for key in keys) and says_empty and no_total:
        return keys[0], []
    raise SurfaceChanged(
        f"{what}: no list under {' / '.join(keys)} (keys: {', '.join(sorted(body)) or 'none'})",
        locator=f"{what}.{keys[0]}",
        sample=body,
    )


def records_parse(
    *, items: list[Any], what: str, parse: Callable[[Any], T | None], skipped: list[DriftNote]
) -> list[T]:
    """`parse` each item; one that raises is skipped and noted with the field that failed."""
    records: list[T] = []
    for index, item in enumerate(items):
        try:
            record = parse(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            skipped.append(DriftNote(locator=f"{what}[{index}]", message=detail[:200], sample=item))
            continue
        if record is not None:
            records.append(record)
    return records


# ---- works -----------------------------------------------------------------------------------------


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
        published_at=epoch_ms(aweme["create_time"], field="create_time"),
        stats=Stats(
            views=stat("view_count", "play_count"),
            likes=stat("like_count", "digg_count"),
            comments=stat("comment_count", "comment_count"),
            shares=stat("share_count", "share_count"),
            favorites=stat("favorite_count", "collect_count"),
        ),
        visibility="private" if status.get("is_private") else "public",
    )


def work_item_parse(*, item: dict[str, Any]) -> Content:
    """One `item_info_list` entry of the second works API."""
    metrics = item.get("metrics") or {}
    cover = item.get("cover") or {}
    status = item.get("status") or {}
    title = str(item.get("title") or item.get("desc") or "")
    return Content(
        content_id=str(item["item_id"]),
        type=CONTENT_TYPES.get(as_int(item.get("aweme_type", item.get("media_type"))), "video"),  # type: ignore[arg-type]
        title=title,
        description=str(item.get("desc") or title),
        cover_url=str(item.get("cover_image_url") or _first_url(cover)),
        url=str(item.get("share_url") or ""),
        published_at=epoch_ms(item.get("create_time") or item["publish_time"], field="create_time"),
        stats=Stats(
            views=as_int(metrics.get("view_count")),
            likes=as_int(metrics.get("like_count")),
            comments=as_int(metrics.get("comment_count")),
            shares=as_int(metrics.get("share_count")),
            favorites=as_int(metrics.get("favorite_count")),
        ),
        visibility="private" if status.get("is_private") or item.get("is_private") else "public",
    )


def work_list_parse(*, body: Any) -> Parsed[Content]:
    """A works body (`work_list`: aweme_list + items[i].metrics; or the second API: item_info_list)."""
    body = api_body_check(body=body, what="work_list")
    skipped: list[DriftNote] = []
    key, entries = body_list(body=body, what="work_list", keys=("aweme_list", "item_info_list"))
    if key == "item_info_list":
        works = records_parse(
            items=entries,
            what="work_list.item_info_list",
            parse=lambda i: work_item_parse(item=i),
            skipped=skipped,
        )
        return Parsed(works, has_more(body.get("has_more")), skipped)
    items = body.get("items") or []

    def one(pair: tuple[int, Any]) -> Content:
        index, aweme = pair
        item = items[index] if index < len(items) and isinstance(items[index], dict) else {}
        return work_parse(aweme=aweme, metrics=item.get("metrics"))

    works = records_parse(
        items=list(enumerate(entries)), what="work_list.aweme_list", parse=one, skipped=skipped
    )
    for note in skipped:
        note.sample = note.sample[1] if isinstance(note.sample, tuple) else note.sample
    return Parsed(works, has_more(body.get("has_more")), skipped)


# ---- comments and notices --------------------------------------------------------------------------


def _optional_id(value: Any) -> str | None:
    text = str(value or "")
    return None if text in ("", "0") else text


def comment_parse(*, raw: dict[str, Any]) -> Comment:
    """One comment of a comment or reply list (either reply-list path), or a reply API answer."""
    user = raw.get("user") or {}
    reply_to_id = str(raw.get("reply_to_userid") or "")
    reply_to = None
    if reply_to_id not in ("", "0") and raw.get("reply_to_username"):
        reply_to = ReplyTo(id=reply_to_id, nickname=str(raw.get("reply_to_username") or ""))
    return Comment(
        comment_id=str(raw.get("cid") or raw["comment_id"]),
        content_id=str(raw.get("aweme_id") or raw["item_id"]),
        parent_id=_optional_id(raw.get("reply_id")),
        author=Person(
            id=str(user.get("uid") or ""),
            sec_uid=str(user.get("sec_uid") or ""),
            nickname=str(user.get("nickname") or ""),
            avatar_url=_first_url(user.get("avatar_thumb")),
        ),
        text=str(raw.get("text") or ""),
        created_at=epoch_ms(raw["create_time"], field="create_time"),
        likes=as_int(raw.get("digg_count")),
        reply_count=as_int(raw.get("reply_comment_total")),
        is_author=raw.get("label_text") == "作者",
        reply_to=reply_to,
        reply_to_reply_id=_optional_id(raw.get("reply_to_reply_id")),
        ip_label=str(raw.get("ip_label") or ""),
    )


def comment_list_parse(*, body: Any) -> Parsed[Comment]:
    """A comment (or reply) list body -> its comments; a record that does not parse is skipped."""
    body = api_body_check(body=body, what="comment list")
    skipped: list[DriftNote] = []
    _, entries = body_list(body=body, what="comment_list", keys=("comments", "comment_list"))
    comments = records_parse(
        items=entries, what="comment_list.comments", parse=lambda r: comment_parse(raw=r), skipped=skipped
    )
    return Parsed(comments, has_more(body.get("has_more")), skipped)


def notice_parse(*, raw: dict[str, Any]) -> Notification:
    """One entry of the notice API (`notice_list_v2`): a comment (or reply, like...) notification."""
    comment = (raw.get("comment") or {}).get("comment") or {}
    aweme = (raw.get("comment") or {}).get("aweme") or {}
    kind = as_int(raw.get("type"))
    return Notification(
        notification_id=str(raw.get("nid_str") or raw["nid"]),
        type=NOTICE_TYPES.get(kind, f"type_{kind}"),
        text=str(comment.get("text") or raw.get("content") or ""),
        created_at=epoch_ms(raw["create_time"], field="create_time"),
        related_content_id=str(comment.get("aweme_id") or aweme.get("aweme_id") or "") or None,
        related_comment_id=str(comment.get("cid") or "") or None,
    )


def notice_list_parse(*, body: Any) -> Parsed[Notification]:
    body = api_body_check(body=body, what="notice")
    skipped: list[DriftNote] = []
    _, entries = body_list(body=body, what="notice", keys=("notice_list_v2", "notice_list"))
    notices = records_parse(
        items=entries, what="notice.notice_list_v2", parse=lambda r: notice_parse(raw=r), skipped=skipped
    )
    return Parsed(notices, has_more(body.get("has_more")), skipped)


# ---- chat ------------------------------------------------------------------------------------------


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
                avatar_url=_first_url(user.get("avatar_thumb")),
            )
    return people


def message_time(props: dict[str, Any]) -> int:
    """A message's time: `createdAt` (ISO or epoch), else `timestamp`, else `createTime`."""
    for key in ("createdAt", "timestamp", "createTime"):
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


# ---- home ------------------------------------------------------------------------------------------


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

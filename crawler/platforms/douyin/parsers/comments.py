"""Comment parsers: comment and reply lists (every known path and shape), reply answers, notices.

Two shapes: the first (`comments[{cid, aweme_id, reply_id, user{...}, ...}]`) and the captured
creator one (`comment_info_list[{comment_id (encrypted), create_time and counts as strings, is_author,
level, user_info{...}, reply_to_user_info}]`), which names neither the work nor the parent: the caller
says which work the page chose (`content_id`) and which comment's replies it asked for (`parent_id`).
Images (`image_list[].origin_url.url_list`) and stickers become `attachments`; `[赞]`-style emoji codes
stay in the text.
"""

from __future__ import annotations

from typing import Any

from crawler.errors import ReplyFailed, ReplyThrottled, ReplyUnknown
from crawler.platforms import DriftNote
from crawler.platforms.douyin import locators
from crawler.platforms.douyin.parsers.common import (
    Parsed,
    api_body_check,
    as_int,
    body_list,
    epoch_ms,
    first_url,
    has_more,
    records_parse,
    size_or_none,
)
from datasync.protocol import Attachment, Comment, Notification, Person, ReplyTo

NOTICE_TYPES = {31: "comment", 33: "comment_reply", 41: "like", 45: "mention"}
COMMENT_LIST_KEYS = ("comments", "comment_list", "comment_info_list")


def _optional_id(value: Any) -> str | None:
    text = str(value or "")
    return None if text in ("", "0") else text


def comment_attachments(raw: dict[str, Any]) -> list[Attachment]:
    """A comment's images (`image_list`) and sticker as typed attachments."""
    found: list[Attachment] = []
    for image in raw.get("image_list") or []:
        if not isinstance(image, dict):
            continue
        url = first_url(image.get("origin_url")) or first_url(image.get("large_url"))
        thumb = first_url(image.get("medium_url")) or first_url(image.get("thumb_url"))
        if url or thumb:
            found.append(
                Attachment(
                    type="image",
                    url=url or thumb,
                    thumb_url=thumb,
                    width=size_or_none(image.get("width")),
                    height=size_or_none(image.get("height")),
                )
            )
    sticker = raw.get("sticker")
    if isinstance(sticker, dict):
        url = first_url(sticker.get("static_url")) or first_url(sticker.get("animate_url"))
        if url:
            found.append(
                Attachment(
                    type="sticker",
                    url=url,
                    width=size_or_none(sticker.get("width")),
                    height=size_or_none(sticker.get("height")),
                )
            )
    return found


def _author(raw: dict[str, Any]) -> Person:
    user = raw.get("user")
    if isinstance(user, dict):
        return Person(
            id=str(user.get("uid") or ""),
            sec_uid=str(user.get("sec_uid") or ""),
            nickname=str(user.get("nickname") or ""),
            avatar_url=first_url(user.get("avatar_thumb")),
        )
    info = raw.get("user_info") or {}
    return Person(
        id=str(info.get("user_id") or ""),
        sec_uid=str(info.get("sec_uid") or ""),
        nickname=str(info.get("screen_name") or info.get("nickname") or ""),
        avatar_url=str(info.get("avatar_url") or ""),
    )


def _reply_to(raw: dict[str, Any]) -> ReplyTo | None:
    reply_to_id = str(raw.get("reply_to_userid") or "")
    if reply_to_id not in ("", "0") and raw.get("reply_to_username"):
        return ReplyTo(id=reply_to_id, nickname=str(raw.get("reply_to_username") or ""))
    info = raw.get("reply_to_user_info")
    if isinstance(info, dict) and info.get("user_id") and as_int(raw.get("level"), 1) == 2:
        return ReplyTo(id=str(info["user_id"]), nickname=str(info.get("screen_name") or ""))
    return None


def comment_parse(
    *, raw: dict[str, Any], content_id: str | None = None, parent_id: str | None = None
) -> Comment:
    """One comment of a comment or reply list (any path, either shape), or a reply API answer.

    The record's own work id wins (`aweme_id`); else `content_id`, the work the page chose. A record
    that names its parent (`reply_id`) keeps it; else a reply (level 2) takes `parent_id`."""
    work = raw.get("aweme_id") or content_id or raw["item_id"]
    if "reply_id" in raw:
        parent = _optional_id(raw.get("reply_id"))
    else:
        parent = parent_id if as_int(raw.get("level"), 2 if parent_id else 1) == 2 else None
    return Comment(
        comment_id=str(raw.get("cid") or raw["comment_id"]),
        content_id=str(work),
        parent_id=parent,
        author=_author(raw),
        text=str(raw.get("text") or ""),
        created_at=epoch_ms(raw["create_time"], field="create_time"),
        likes=as_int(raw.get("digg_count")),
        reply_count=as_int(raw.get("reply_comment_total", raw.get("reply_count"))),
        is_author=raw.get("label_text") == "作者" or raw.get("is_author") is True,
        reply_to=_reply_to(raw),
        reply_to_reply_id=_optional_id(raw.get("reply_to_reply_id")),
        ip_label=str(raw.get("ip_label") or ""),
        attachments=comment_attachments(raw),
    )


def comment_list_parse(
    *, body: Any, status: int = 200, content_id: str | None = None, parent_id: str | None = None
) -> Parsed[Comment]:
    """A comment (or reply) list body -> its comments; a record that does not parse is skipped.
    `content_id` / `parent_id`: the work the page chose and the comment whose replies it asked for
    (the captured shape names neither)."""
    body = api_body_check(body=body, what="comment list", status=status)
    skipped: list[DriftNote] = []
    key, entries = body_list(body=body, what="comment_list", keys=COMMENT_LIST_KEYS)
    comments = records_parse(
        items=entries,
        what=f"comment_list.{key}",
        parse=lambda r: comment_parse(raw=r, content_id=content_id, parent_id=parent_id),
        skipped=skipped,
    )
    return Parsed(comments, has_more(body.get("has_more")), skipped)


def reply_answer_parse(
    *, body: Any, status: int, content_id: str, parent_id: str | None, now_ms: int
) -> tuple[str | None, Comment | None]:
    """The comment-reply API's answer -> (the platform's id of the new comment, the comment as far as
    the answer tells it), for an accepted reply (`status_code` 0) whatever else the answer lacks:
    captured answers carry no work id (`content_id` is the reply's target work) and may lack the time
    (`now_ms`). A refusal raises ReplyThrottled (status 8 `评论失败，请稍后重试`, a risk code or HTTP
    status) or ReplyFailed (`platform_<code>`); an answer that says neither raises ReplyUnknown."""
    if status in locators.RISK_HTTP_STATUSES:
        raise ReplyThrottled(f"the reply was refused with HTTP {status} (risk control)")
    if not isinstance(body, dict) or not body:
        raise ReplyUnknown(
            f"the reply's answer was empty (HTTP {status}): posted or not is unknown",
            code="answer_unreadable",
        )
    code = as_int(body.get("status_code"), -1)
    message = str(body.get("status_msg") or "")
    if code in locators.LOGIN_OR_RISK_CODES or code in locators.RISK_CODES:
        raise ReplyThrottled(f"{message or 'refused'} (status_code {code})")
    if code != 0:
        if code == -1:
            raise ReplyUnknown(
                f"the reply's answer has no status_code: {str(body)[:120]}", code="answer_unreadable"
            )
        raise ReplyFailed(
            f"{message or 'refused by the platform'} (status_code {code})", code=f"platform_{code}"
        )
    info = body.get("comment_info")
    if not isinstance(info, dict):
        return None, None
    platform_id = str(info.get("comment_id") or info.get("cid") or "") or None
    raw = {"create_time": now_ms, **{k: v for k, v in info.items() if v is not None}, "is_author": True}
    raw.setdefault("level", 2 if parent_id else 1)
    try:
        return platform_id, comment_parse(raw=raw, content_id=content_id, parent_id=parent_id)
    except (KeyError, TypeError, ValueError, AttributeError):
        return platform_id, None


def comments_total(body: Any) -> int:
    """How many comments a comment-list body says the work has (`total` / `total_count`; 0 if none)."""
    if not isinstance(body, dict):
        return 0
    return as_int(body.get("total"), 0) or as_int(body.get("total_count"), 0)


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


def notice_list_parse(*, body: Any, status: int = 200) -> Parsed[Notification]:
    body = api_body_check(body=body, what="notice", status=status)
    skipped: list[DriftNote] = []
    _, entries = body_list(body=body, what="notice", keys=("notice_list_v2", "notice_list"))
    notices = records_parse(
        items=entries, what="notice.notice_list_v2", parse=lambda r: notice_parse(raw=r), skipped=skipped
    )
    return Parsed(notices, has_more(body.get("has_more")), skipped)

"""Comment parsers: comment and reply lists (either reply-list path), reply answers, notices."""

from __future__ import annotations

from typing import Any

from crawler.platforms import DriftNote
from crawler.platforms.douyin.parsers.common import (
    Parsed,
    api_body_check,
    as_int,
    body_list,
    epoch_ms,
    first_url,
    has_more,
    records_parse,
)
from datasync.protocol import Comment, Notification, Person, ReplyTo

NOTICE_TYPES = {31: "comment", 33: "comment_reply", 41: "like", 45: "mention"}


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
            avatar_url=first_url(user.get("avatar_thumb")),
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

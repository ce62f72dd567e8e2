"""Pure parsers: Douyin's raw JSON (API bodies and fiber props) -> `datasync.protocol` records.

One module per surface (`works`, `comments`, `chat`, `home`) over `common` (units, body checks,
per-record tolerance). Every known form of a field is accepted (the variants are listed in
docs/architecture.md); nothing here does I/O. Callers use `parsers.<name>` from this package.
"""

from crawler.platforms.douyin.parsers.chat import (
    NOTICE_AWE_TYPE,
    conversation_parse,
    message_parse,
    message_time,
    user_detail_parse,
)
from crawler.platforms.douyin.parsers.comments import (
    NOTICE_TYPES,
    comment_attachments,
    comment_list_parse,
    comment_parse,
    comments_total,
    notice_list_parse,
    notice_parse,
    reply_answer_parse,
)
from crawler.platforms.douyin.parsers.common import (
    MS_THRESHOLD,
    Parsed,
    api_body_check,
    as_int,
    body_list,
    display_time_ms,
    epoch_ms,
    first_url,
    has_more,
    http_status_check,
    iso_to_ms,
    records_parse,
    seconds_to_ms,
)
from crawler.platforms.douyin.parsers.home import profile_parse, short_count_parse
from crawler.platforms.douyin.parsers.works import (
    CONTENT_TYPES,
    MEDIA_TYPES,
    work_item_parse,
    work_list_parse,
    work_parse,
    work_type,
    works_total,
)

__all__ = [
    "CONTENT_TYPES",
    "MEDIA_TYPES",
    "MS_THRESHOLD",
    "NOTICE_AWE_TYPE",
    "NOTICE_TYPES",
    "Parsed",
    "api_body_check",
    "as_int",
    "body_list",
    "comment_attachments",
    "comment_list_parse",
    "comment_parse",
    "comments_total",
    "conversation_parse",
    "display_time_ms",
    "epoch_ms",
    "first_url",
    "has_more",
    "http_status_check",
    "iso_to_ms",
    "message_parse",
    "message_time",
    "notice_list_parse",
    "notice_parse",
    "profile_parse",
    "records_parse",
    "reply_answer_parse",
    "seconds_to_ms",
    "short_count_parse",
    "user_detail_parse",
    "work_item_parse",
    "work_list_parse",
    "work_parse",
    "work_type",
    "works_total",
]

"""Douyin creator center: URLs, selectors, texts and API path patterns (one place to change them).

The base URL is configurable (`IMHUB_DOUYIN_BASE_URL`), so the same adapter runs against the real site
or the local simulator. API paths are matched by regex on the URL path, with or without a trailing
slash (the site redirects some of them), never by glob on the full URL.

Where the real site has been seen in several forms, a locator holds ordered, named variants (tried in
order; the name is what a drift report and the docs call it). The variants are listed, with what each
changes, in docs/architecture.md ("Douyin surface variants").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiLocator:
    """An API by its path patterns (explicit regexes, not globs), in order; `match` names the variant."""

    name: str
    variants: tuple[tuple[str, re.Pattern[str]], ...]

    def match(self, path: str) -> str | None:
        for variant, pattern in self.variants:
            if pattern.match(path):
                return variant
        return None


@dataclass(frozen=True)
class SelectorLocator:
    """An element by CSS selectors, in order of preference, each variant named."""

    name: str
    variants: tuple[tuple[str, str], ...]

    @property
    def any(self) -> str:
        """One selector matching any variant (for presence checks)."""
        return ", ".join(selector for _, selector in self.variants)


DEFAULT_BASE_URL = "https://creator.douyin.com"


def base_url() -> str:
    """The creator-center origin: the `IMHUB_DOUYIN_BASE_URL` setting (the real site's without Django)."""
    from django.conf import settings

    configured = settings.IMHUB_DOUYIN_BASE_URL if settings.configured else ""
    return (configured or DEFAULT_BASE_URL).rstrip("/")


# Pages
LOGIN_PATH = "/"
HOME_PATH = "/creator-micro/home"
WORKS_PATH = "/creator-micro/content/manage"
COMMENTS_PATH = "/creator-micro/interactive/comment"
CHAT_PATH = "/creator-micro/data/following/chat"
LOGGED_IN_PATH_PREFIX = "/creator-micro/"

# API paths (regex on the URL path)
COMMENT_READ = "/web/api/third_party/aweme/api/comment/read/aweme/v1/web/comment"
WORK_LIST_API = ApiLocator(
    "work_list",
    (
        ("work_list", re.compile(r"^/janus/douyin/creator/pc/work_list/?$")),
        ("item_list", re.compile(r"^/aweme/v1/creator/item/list/?$")),  # {item_info_list, cursor, ...}
    ),
)
# The captured creator APIs (`comment_info_list`: encrypted ids, no work id) beside the first ones.
COMMENT_LIST_API = ApiLocator(
    "comment_list",
    (
        ("list_select", re.compile(rf"^{COMMENT_READ}/list/select/?$")),
        ("creator_list", re.compile(r"^/aweme/v1/creator/comment/list/?$")),
    ),
)
COMMENT_REPLY_LIST_API = ApiLocator(
    "comment_reply_list",
    (
        ("list_reply", re.compile(rf"^{COMMENT_READ}/list/reply/?$")),
        ("reply_list", re.compile(rf"^{COMMENT_READ}/reply/list/?$")),
        ("creator_reply_list", re.compile(r"^/aweme/v1/creator/comment/reply/list/?$")),
    ),
)
NOTICE_API = ApiLocator("notice", (("notice_detail", re.compile(r"^/aweme/v1/web/notice/detail/?$")),))
COMMENT_REPLY_POST_API = re.compile(r"^/aweme/v1/creator/comment/reply/?$")
USER_DETAIL_API = ApiLocator(
    "user_detail", (("user_detail", re.compile(r"^/aweme/v1/creator/im/user_detail/?$")),)
)

# Login
QR_IMAGE = SelectorLocator(
    "login.qr_image",
    (
        ("qr_container", "#animate_qrcode_container img"),
        ("qr_alt", 'img[alt="二维码"]'),
        ("qr_aria", 'img[aria-label="二维码"]'),
        ("qr_data_png", '[class*="login"] img[src^="data:image/png"]'),
        ("qr_class", '[class*="qrcode" i] img, img[class*="qrcode" i]'),
    ),
)
LOGGED_OUT_TEXTS = ("扫码登录", "验证码登录", "密码登录", "我是创作者")
SCAN_HINT_TEXT = "需在手机上进行确认"
LOGIN_COOKIES = ("sessionid", "sid_guard", "LOGIN_STATUS")  # none of them in the context: logged out

# Risk control (DOUYIN-SURFACE.md "Risk signals"): any of these is a cool-down, never a logout or drift.
CAPTCHA_SELECTORS = ("#captcha_container", ".captcha_verify_container")
VERIFY_URL_RE = re.compile(r"verifycenter|captcha", re.IGNORECASE)  # a page's or a frame's address
VERIFY_TEXT = "验证码"  # on a logged-in page (the login card's 验证码登录 is checked for first)
RISK_HTTP_STATUSES = frozenset({403, 429, 461, 471})

# Home / profile
PROFILE_UNIQUE_ID = '[class*="unique_id-"]'
PROFILE_NAME = '[class*="name-"]'
PROFILE_AVATAR = '[class*="avatar-"]'
UNIQUE_ID_RE = re.compile(r"抖音号[：:]\s*(\S+)")

# Works
NO_MORE_TEXT = "没有更多"

# Comments (a comment node's fiber `cid` may be the API's id, or an encoded "@i/..." id)
ENCODED_CID_PREFIX = "@i/"
SELECT_WORK_TEXT = "选择作品"
WORK_MODAL = '[role="dialog"]'
WORK_MODAL_LIST = '[role="dialog"] [class*="work-list-"]'
WORK_CARD = '[role="dialog"] [class*="container-"]'
COMMENT_PANEL = '[role="tabpanel"]'
COMMENT_ITEM = '[class*="comment-item-"]'
COMMENT_END_TEXTS = ("没有更多评论", "暂无评论")
REPLY_MORE_RE = r"查看\d+条回复|展开更多回复"
REPLY_MORE = '[class*="reply-more-"]'
REPLY_OPERATION_TEXT = "回复"
TOP_EDITOR_PLACEHOLDER = "有爱评论，说点好听的~"
EDITOR = '[contenteditable="true"]'
SEND_TEXT = "发送"

# Chat
CONVERSATION_LIST = '[class*="conversation-list-"]'
CONVERSATION_ROW = '[role="list-item"]'
# A row's props are the nearest fiber props holding one of these: ours (`conversationId`) or the captured
# grid item (`id` 0:1:<uid>:<uid>, `shortId`, `firstPageParticipant`, `_lastMessage`, `_badgeCount`).
CONVERSATION_KEYS = ("conversationId", "shortId", "firstPageParticipant")
CONVERSATION_ROW_HEIGHT_FALLBACK = 72
MESSAGE_PANEL = '[class*="box-content-"]'
MESSAGE_ITEM = '[class*="message-item-"]'
MESSAGE_NO_MORE = '[class*="no-more-"]'
CHAT_HEADER_NAME = '[class*="box-header-name"]'
CHAT_INPUT = '[class*="chat-input-"] [contenteditable="true"]'
CHAT_SEND = '[class*="chat-input-"] button'

# API status codes. 8 is what a logged-out session gets, and also what a refused or throttled post gets
# (`评论失败，请稍后重试`): on a read only the login signals above tell which; on a write it is a refusal.
LOGIN_OR_RISK_CODES = frozenset({8})
RISK_CODES = frozenset({2154, 2155})

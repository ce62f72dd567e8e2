"""Surface variants: forms in which the real creator center has been seen, served on request.

A surface is a set of variant names (`"default"` = none). It is chosen per simulator (`--surface`,
the `"*"` entry) and per account (`POST /__sim__/surface {surface, uid}`); an account's own entry wins.
The login page and the passport calls have no account yet: they follow the `"*"` surface.
"""

from __future__ import annotations

VARIANTS: dict[str, str] = {
    "qr_alt": "login QR only as img[alt=二维码] (no #animate_qrcode_container, no qrcode class)",
    "qr_aria": "login QR only as img[aria-label=二维码]",
    "qr_data_png": "login QR only as a data:image/png image inside the login card",
    "qr_class": "login QR only by class names containing QRCode",
    "ms_times": "comment create_time in ms; DM createdAt as epoch ms, or timestamp (s) / createTime (ms)",
    "reply_list_v2": "reply lists fetched from .../comment/reply/list/ instead of .../comment/list/reply/",
    "works_v2": "works and the picker from /aweme/v1/creator/item/list (301 to the slash) in the captured "
    "shape: item_info_list[{item_id (encrypted), item_id_plain, create_time as display text, ...}]",
    "comment_list_v2": "the comment page's picker from the item list, comments from /aweme/v1/creator/comment/list/ "
    "and .../comment/reply/list/ as comment_info_list (encrypted ids, string times and counts, no work id)",
    "chat_v2": "the chat page as captured: rows' props are the grid item (id 0:1:<uid>:<uid>, shortId, "
    "firstPageParticipant.participants[{sec_uid, nick_name}], _lastMessage, coreInfo.lastMessage, _badgeCount; "
    "cyclic, with functions) and messages' props hold content as a JSON string and only createdTime",
    "notice": "the comment page also fetches /aweme/v1/web/notice/detail/ (comment notifications)",
    "encoded_cid": "comment nodes' fiber props carry an encoded @i/ cid and no API comment object",
    "bad_record": "about one top-level comment in ten has an unreadable create_time ('刚刚')",
    "unknown": "works from a path no adapter knows (/janus/douyin/creator/pc/work/list_next)",
    "empty_works": "the works list is empty while its total counts every work (a silent zero)",
    "empty_comments": "comment lists are empty while their total counts every comment (a silent zero)",
    "no_im_store": "the chat page's IM entry element carries no imStore (the listener's hook finds no store)",
    "no_im_socket": "the chat page opens no IM WebSocket (no frames for the listener's frame tap)",
}
QR_VARIANTS = ("qr_alt", "qr_aria", "qr_data_png", "qr_class")


def surface_parse(text: str | list[str] | None) -> frozenset[str]:
    """`"default"`, `"ms_times,notice"` or a list of names -> the set; ValueError naming unknown ones."""
    names = text if isinstance(text, list) else str(text or "").split(",")
    chosen = {str(n).strip() for n in names if str(n).strip() and str(n).strip() != "default"}
    unknown = sorted(chosen - set(VARIANTS))
    if unknown:
        raise ValueError(
            f"unknown surface variant(s) {', '.join(unknown)}; known: default, {', '.join(VARIANTS)}"
        )
    if len(chosen & set(QR_VARIANTS)) > 1:
        raise ValueError("choose at most one qr_* variant")
    return frozenset(chosen)


def surface_name(surface: frozenset[str]) -> str:
    return ",".join(sorted(surface)) or "default"

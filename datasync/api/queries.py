"""The IM API's read queries by route: parse the route's parameters, check the account is visible,
ask the store. Shared by the DRF viewsets and the WSGI fast path (``fastpath.py``), so both answer
the same request with the same body and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from datasync.api.access import account_visible_check
from datasync.api.params import page_params, query_bool, query_choice, query_str
from datasync.store import CONTENT_ORDERINGS, DataStore, StoreQueryError

Page = tuple[list[dict[str, Any]], str | None]
MAX_SEARCH = 100


def _account_page(q: Mapping[str, Any], user: Any) -> dict[str, Any]:
    params = page_params(q)
    account_visible_check(user=user, account_id=params["account_id"])
    return params


def conversations_list(*, store: DataStore, q: Mapping[str, Any], user: Any) -> Page:
    p = _account_page(q, user)
    return store.conversations_page(account_id=p["account_id"], cursor=p["cursor"], limit=p["limit"])


def messages_list(*, store: DataStore, q: Mapping[str, Any], user: Any) -> Page:
    conversation_id = query_str(q, "conversation_id")
    p = _account_page(q, user)
    return store.messages_page(
        account_id=p["account_id"],
        conversation_id=conversation_id or "",
        cursor=p["cursor"],
        limit=p["limit"],
    )


def contents_list(*, store: DataStore, q: Mapping[str, Any], user: Any) -> Page:
    ordering = query_choice(q, "ordering", choices=CONTENT_ORDERINGS, default="-published_at")
    p = _account_page(q, user)
    return store.contents_page(
        account_id=p["account_id"], ordering=ordering, cursor=p["cursor"], limit=p["limit"]
    )


def discussions_list(*, store: DataStore, q: Mapping[str, Any], user: Any) -> Page:
    content_id = query_str(q, "content_id", required=False)
    parent_id = query_str(q, "parent_id", required=False)
    p = _account_page(q, user)
    if not content_id and not parent_id:
        raise StoreQueryError("content_id", "content_id or parent_id is required")
    return store.discussions_page(
        account_id=p["account_id"],
        content_id=content_id,
        parent_id=parent_id,
        cursor=p["cursor"],
        limit=p["limit"],
    )


def unified_list(*, store: DataStore, q: Mapping[str, Any], user: Any) -> Page:
    types = query_choice(q, "types", choices=("all", "comments", "messages"), default="all")
    unread = query_bool(q, "unread")
    text = query_str(q, "q", required=False)
    if text is not None and len(text) > MAX_SEARCH:
        raise StoreQueryError("q", f"must be at most {MAX_SEARCH} characters")
    p = _account_page(q, user)
    return store.unified_page(
        account_id=p["account_id"],
        types=types,
        unread=unread,
        cursor=p["cursor"],
        limit=p["limit"],
        text=text.strip() or None if text else None,
    )


def unread_stats_get(*, store: DataStore, q: Mapping[str, Any], user: Any) -> dict[str, int]:
    p = _account_page(q, user)
    return store.unread_stats(p["account_id"])


LIST_QUERIES: dict[str, Callable[..., Page]] = {
    "/api/im/conversations/": conversations_list,
    "/api/im/messages/": messages_list,
    "/api/im/contents/": contents_list,
    "/api/im/discussions/": discussions_list,
    "/api/im/unified-messages/": unified_list,
}
OBJECT_QUERIES: dict[str, Callable[..., dict[str, Any]]] = {
    "/api/im/unified-messages/stats/": unread_stats_get,
}

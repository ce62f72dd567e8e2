"""The IM API's read routes: parse the route's parameters, check the account is visible, ask the store.

One owner per route: the DRF viewsets (``views.py``) and the ASGI read lane (``lane.py``) both call
these functions, so both answer the same request with the same body and the same errors. Each takes the
store, the query parameters (a mapping, last value wins like Django's QueryDict), the user's visible
account ids (None: every account) and, for detail routes, the ``pk`` from the path; it returns a page
``(results, next_cursor)`` or one object, or raises ``StoreQueryError`` / ``StoreNotFound``. A
viewset names the ``ReadQuery`` of each read action (``ImViewSet.reads``); the lane finds them through
the router's URL patterns (``lane.lane_routes``), so the route table is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from datasync.im.api.params import page_params, query_bool, query_choice, query_int, query_str
from datasync.im.api.serializers import MAX_LIMIT
from datasync.im.api.visibility import account_check, account_directory
from datasync.store import CONTENT_ORDERINGS, DataStore, StoreNotFound, StoreQueryError

Page = tuple[list[dict[str, Any]], str | None]
Visible = frozenset[int] | None
MAX_SEARCH = 100


def _account_page(q: Mapping[str, Any], visible: Visible) -> dict[str, Any]:
    params = page_params(q)
    account_check(visible=visible, account_id=params["account_id"])
    return params


def _account_out(row: dict[str, Any], store: DataStore) -> dict[str, Any]:
    data = dict(row)
    data.update(store.account_summary(row["id"]))
    return data


def accounts_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    """Monitored accounts by id, from the in-memory account directory (refresh it first when stale)."""
    limit = query_int(q, "limit", default=20, high=MAX_LIMIT)
    cursor = query_str(q, "cursor", required=False)
    if cursor is not None and not (cursor.isascii() and cursor.isdigit()):
        raise StoreQueryError("cursor", "not a valid cursor")
    rows = account_directory.rows(visible=visible, after=int(cursor or 0), limit=limit + 1)
    results = [_account_out(row, store) for row in rows[:limit]]
    return results, str(results[-1]["id"]) if len(rows) > limit else None


def account_get(*, store: DataStore, q: Mapping[str, Any], visible: Visible, pk: str) -> dict[str, Any]:
    if not (pk.isascii() and pk.isdigit()):
        raise StoreNotFound("account", pk)
    account_id = int(pk)
    row = account_directory.row(account_id)
    if row is None or (visible is not None and account_id not in visible):
        raise StoreNotFound("account", account_id)
    return _account_out(row, store)


def conversations_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    p = _account_page(q, visible)
    return store.conversations_page(account_id=p["account_id"], cursor=p["cursor"], limit=p["limit"])


def conversation_get(*, store: DataStore, q: Mapping[str, Any], visible: Visible, pk: str) -> dict[str, Any]:
    p = _account_page(q, visible)
    return store.conversation_get(account_id=p["account_id"], conversation_id=pk)


def messages_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    conversation_id = query_str(q, "conversation_id")
    p = _account_page(q, visible)
    return store.messages_page(
        account_id=p["account_id"],
        conversation_id=conversation_id or "",
        cursor=p["cursor"],
        limit=p["limit"],
    )


def contents_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    ordering = query_choice(q, "ordering", choices=CONTENT_ORDERINGS, default="-published_at")
    p = _account_page(q, visible)
    return store.contents_page(
        account_id=p["account_id"], ordering=ordering, cursor=p["cursor"], limit=p["limit"]
    )


def content_get(*, store: DataStore, q: Mapping[str, Any], visible: Visible, pk: str) -> dict[str, Any]:
    p = _account_page(q, visible)
    return store.content_get(account_id=p["account_id"], content_id=pk)


def discussions_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    content_id = query_str(q, "content_id", required=False)
    parent_id = query_str(q, "parent_id", required=False)
    p = _account_page(q, visible)
    if not content_id and not parent_id:
        raise StoreQueryError("content_id", "content_id or parent_id is required")
    return store.discussions_page(
        account_id=p["account_id"],
        content_id=content_id,
        parent_id=parent_id,
        cursor=p["cursor"],
        limit=p["limit"],
    )


def unified_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> Page:
    types = query_choice(q, "types", choices=("all", "comments", "messages"), default="all")
    unread = query_bool(q, "unread")
    text = query_str(q, "q", required=False)
    if text is not None and len(text) > MAX_SEARCH:
        raise StoreQueryError("q", f"must be at most {MAX_SEARCH} characters")
    p = _account_page(q, visible)
    return store.unified_page(
        account_id=p["account_id"],
        types=types,
        unread=unread,
        cursor=p["cursor"],
        limit=p["limit"],
        text=text.strip() or None if text else None,
    )


def unread_stats_get(*, store: DataStore, q: Mapping[str, Any], visible: Visible) -> dict[str, int]:
    p = _account_page(q, visible)
    return store.unread_stats(p["account_id"])


@dataclass(frozen=True)
class ReadQuery:
    """A read route's query, as the viewset action that answers it names it (``ImViewSet.reads``) and
    the read lane serves it: what it returns, and whether it reads the account directory."""

    fn: Callable[..., Any]
    page: bool  # a cursor page ({results, next, next_cursor}) rather than one object
    directory: bool = False  # reads the account directory (refresh it first when stale)
    user: bool = False  # takes the requesting user's id (``user_id``: "mine" views)
    # a number that changes whenever the answer may change: the read lane then keeps each answer's
    # bytes per (route, visible accounts, user, query, host) until it does (None: computed each time)
    version: Callable[[], int] | None = None


ACCOUNTS = ReadQuery(accounts_list, page=True, directory=True)
ACCOUNT = ReadQuery(account_get, page=False, directory=True)
CONVERSATIONS = ReadQuery(conversations_list, page=True)
CONVERSATION = ReadQuery(conversation_get, page=False)
MESSAGES = ReadQuery(messages_list, page=True)
CONTENTS = ReadQuery(contents_list, page=True)
CONTENT = ReadQuery(content_get, page=False)
DISCUSSIONS = ReadQuery(discussions_list, page=True)
UNIFIED = ReadQuery(unified_list, page=True)
UNREAD_STATS = ReadQuery(unread_stats_get, page=False)

"""The desk's read routes answered from memory (the queue, its counts, a customer's threads): the same
functions serve the DRF viewsets and the ASGI read lane (``datasync.im.api.lane``), as the IM reads do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datasync.desk.activity import desk_index
from datasync.desk.index import KINDS, STATUSES, QueueFilter
from datasync.im.api.params import query_bool, query_choice, query_int, query_str
from datasync.im.api.queries import ReadQuery
from datasync.im.api.serializers import MAX_LIMIT
from datasync.store import DataStore, StoreQueryError
from datasync.store.cursor import cursor_decode, cursor_encode

Visible = frozenset[int] | None
Page = tuple[list[dict[str, Any]], str | None]
ORDERINGS = ("waiting", "newest")


def queue_filter(q: Mapping[str, Any], *, user_id: int | None) -> QueueFilter:
    """The filter of a queue request: ``status`` (default open; ``all``), ``assignee`` (``me``, ``none``,
    a user id; default any), ``account_id``, ``kind``, ``unread``, ``label``, ``customer_id``."""
    status = query_choice(q, "status", choices=(*STATUSES, "all"), default="open")
    assignee = query_str(q, "assignee", required=False)
    assignee_id: int | None = None
    if assignee == "me":
        assignee_id = user_id
    elif assignee not in (None, "none", "any"):
        if not (str(assignee).isascii() and str(assignee).isdigit()):
            raise StoreQueryError("assignee", "must be me, none, any or a user id")
        assignee_id = int(str(assignee))
    kind = query_str(q, "kind", required=False)
    if kind is not None and kind not in KINDS:
        raise StoreQueryError("kind", f"must be one of {', '.join(KINDS)}")
    unread = query_bool(q, "unread") if q.get("unread") not in (None, "") else None
    label = query_str(q, "label", required=False)
    account_id = query_int(q, "account_id") if q.get("account_id") not in (None, "") else None
    return QueueFilter(
        status=None if status == "all" else status,
        account_id=account_id,
        assignee=assignee_id,
        unassigned=assignee == "none",
        kind=kind,
        unread=unread,
        label=label,
        customer_id=query_str(q, "customer_id", required=False),
    )


def threads_list(*, store: DataStore, q: Mapping[str, Any], visible: Visible, user_id: int | None) -> Page:
    """The queue: threads longest waiting first (``ordering=newest``: newest first), filtered."""
    where = queue_filter(q, user_id=user_id)
    ordering = query_choice(q, "ordering", choices=ORDERINGS, default="waiting")
    limit = query_int(q, "limit", default=20, high=MAX_LIMIT)
    cursor = query_str(q, "cursor", required=False)
    after = cursor_decode(cursor, shape=(int, str)) if cursor else None
    rows, last = desk_index.page(
        where=where,
        visible=visible,
        after=(int(after[0]), str(after[1])) if after else None,
        limit=limit,
        newest_first=ordering == "newest",
        rendered=True,
    )
    return rows, cursor_encode(last) if last else None


def threads_counts(
    *, store: DataStore, q: Mapping[str, Any], visible: Visible, user_id: int | None
) -> dict[str, Any]:
    """Threads per status: all, mine, unassigned (the view tabs and the title count)."""
    return desk_index.counts(visible=visible, user_id=user_id)


def customer_threads(
    *, store: DataStore, q: Mapping[str, Any], visible: Visible, user_id: int | None, pk: str
) -> dict[str, Any]:
    """A customer as the platform shows them, and every thread of theirs across the visible accounts."""
    threads = desk_index.customer_threads(pk, visible)
    if not threads:
        from datasync.store import StoreNotFound

        raise StoreNotFound("customer", pk)
    threads.sort(key=lambda t: -t["last_at"])
    return {"customer": threads[0]["customer"], "threads": threads}


THREADS = ReadQuery(threads_list, page=True, user=True, version=desk_index.revision)
THREAD_COUNTS = ReadQuery(threads_counts, page=False, user=True, version=desk_index.revision)
CUSTOMER = ReadQuery(customer_threads, page=False, user=True)

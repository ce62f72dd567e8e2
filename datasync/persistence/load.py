"""Reading the rows back: every account's records for the start-up load (datasync/snapshot.py), one
account's again after a fan-out gap, and the counts the stats and the load report show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection
from django.db.models import Count
from pydantic_core import from_json

from datasync.models import Entity, SyncState
from datasync.persistence.rows import entity_table
from datasync.protocol import ENTITY_KINDS
from datasync.store import Change


def entity_counts_by_account() -> dict[int, int]:
    """Rows in the database per account (accounts without rows are absent)."""
    return dict(Entity.objects.order_by().values_list("account_id").annotate(number=Count("id")))


def account_records_load(
    *, account_ids: list[int] | None = None, chunk_size: int = 5000
) -> Iterator[tuple[int, dict[str, list[dict[str, Any]]]]]:
    """(account_id, records by kind) of every account with rows (or of `account_ids`), one account
    at a time, each record as stored."""
    current: int | None = None
    records: dict[str, list[dict[str, Any]]] = {}
    for account_id, kind, record in rows_in_order(chunk_size=chunk_size, account_ids=account_ids):
        if account_id != current:
            if current is not None:
                yield current, records
            current, records = account_id, {}
        records.setdefault(kind, []).append(record)
    if current is not None:
        yield current, records


def rows_in_order(
    *, chunk_size: int, account_id: int | None = None, account_ids: list[int] | None = None
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(account_id, kind, record) of every row (or of some accounts'), in the unique index's order:
    by account, kind, id (raw SQL: 2-3x the ORM). The order within an account does not matter to the
    store: its indexes are sorted by time."""
    table = entity_table()
    where, params = "", []
    if account_id is not None:
        account_ids = [account_id]
    if account_ids is not None:
        if not account_ids:
            return
        where, params = f"WHERE account_id IN ({', '.join(['%s'] * len(account_ids))}) ", list(account_ids)
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, kind, record FROM {table} {where}ORDER BY account_id, kind, platform_id",
            params,
        )
        while True:
            batch = cursor.fetchmany(chunk_size)
            if not batch:
                return
            for account_id, kind, record in batch:
                yield account_id, kind, (from_json(record) if isinstance(record, str | bytes) else record)


def store_load_account(*, account_id: int, apply: Callable[[Change], Any], chunk_size: int = 5000) -> int:
    """Re-apply every stored row of one account (upserts only, at no known revision: the rows may
    be ahead of any one change), in changes of at most ``chunk_size`` rows; returns the row count."""
    last_seq = SyncState.objects.filter(account_id=account_id).values_list("last_seq", flat=True).first() or 0
    count = 0
    upserts: dict[str, list[dict[str, Any]]] = {}
    for _, kind, record in rows_in_order(chunk_size=chunk_size, account_id=account_id):
        upserts.setdefault(kind, []).append(record)
        count += 1
        if count % chunk_size == 0:
            apply(Change(account_id=account_id, seq=last_seq, upserts=upserts))
            upserts = {}
    if upserts:
        apply(Change(account_id=account_id, seq=last_seq, upserts=upserts))
    return count


def entity_counts() -> dict[str, int]:
    """Rows in the database by kind (every kind present, zero when empty)."""
    counts: dict[str, int] = dict.fromkeys(ENTITY_KINDS, 0)
    for row in Entity.objects.order_by().values("kind").annotate(number=Count("id")):
        counts[row["kind"]] = row["number"]
    return counts

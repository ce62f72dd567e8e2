"""Writing a sync frame's rows: the idempotent bulk upsert and explicit deletions.

The upsert is one `INSERT ... ON CONFLICT DO UPDATE` per frame, which SQLite (3.24+) and PostgreSQL
both run (SQLite: executemany after merging in Python, `sqlite.py`; PostgreSQL: COPY into a temporary
table, then one INSERT ... SELECT that merges in SQL, `postgres.py`), by the one merge rule of
`merge.py`. Rows disappear only through explicit `deleted` ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from pydantic_core import from_json, to_json

from datasync.models import Entity
from datasync.persistence import postgres, sqlite
from datasync.persistence.merge import record_merge, row_columns
from datasync.persistence.postgres import copy_line
from datasync.persistence.rows import chunks
from datasync.protocol import ENTITY_ID_FIELDS


@dataclass
class PreparedUpserts:
    """One upsert's records made ready before its transaction (`upserts_prepare`): merged within the
    call by platform id and, on PostgreSQL, already written as the COPY text of the staging rows.
    This is CPU work only: the WorkerConsumer does it while the previous frame commits."""

    account_id: int
    stamp: int
    by_kind: dict[str, dict[str, dict[str, Any]]]
    copy_text: str | None  # PostgreSQL; None on SQLite, whose rows depend on the stored records


def upserts_prepare(
    *, account_id: int, upserts: dict[str, list[dict[str, Any]]], now_ms: int | None = None
) -> PreparedUpserts:
    """Make `upserts` ready for `entities_upsert_prepared` (no database access)."""
    stamp = now_ms if now_ms is not None else int(time.time() * 1000)
    lines: list[str] | None = [] if connection.vendor == "postgresql" else None
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, records in upserts.items():
        if not records:
            continue
        id_field = ENTITY_ID_FIELDS[kind]
        incoming: dict[str, dict[str, Any]] = {}
        for record in records:
            key = record[id_field]
            incoming[key] = record_merge(old=incoming.get(key), new=record)
        by_kind[kind] = incoming
        if lines is not None:
            lines.extend(
                map(copy_line, entity_rows(account_id=account_id, kind=kind, records=incoming, stamp=stamp))
            )
    return PreparedUpserts(
        account_id=account_id,
        stamp=stamp,
        by_kind=by_kind,
        copy_text=None if lines is None else "".join(lines),
    )


def entity_rows(
    *, account_id: int, kind: str, records: dict[str, dict[str, Any]], stamp: int
) -> Iterator[tuple[Any, ...]]:
    """The Entity rows (`rows.COLUMNS`) of merged records."""
    for key, record in records.items():
        sort_at, parent = row_columns(kind=kind, record=record)
        yield (account_id, kind, key, _dumps(record), sort_at, parent, stamp)


def _dumps(record: dict[str, Any]) -> str:
    # pydantic-core's serializer: compact UTF-8 JSON, ~3x faster than json.dumps on these records
    return to_json(record).decode()


def entities_upsert(
    *, account_id: int, upserts: dict[str, list[dict[str, Any]]], now_ms: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Upsert records by (account, kind, platform id); returns the merged records by kind.

    Must run inside the caller's transaction. Duplicate ids within one call merge in order.
    """
    return entities_upsert_prepared(upserts_prepare(account_id=account_id, upserts=upserts, now_ms=now_ms))


def entities_upsert_prepared(prepared: PreparedUpserts) -> dict[str, list[dict[str, Any]]]:
    """`entities_upsert` of records made ready by `upserts_prepare`, inside the caller's transaction."""
    if not prepared.by_kind:
        return {}
    by_kind = prepared.by_kind
    if prepared.copy_text is not None:
        merged_in_database = postgres.upsert_copy(prepared.copy_text)
    else:
        rows: list[tuple[Any, ...]] = []
        by_kind = {}
        for kind, incoming in prepared.by_kind.items():
            existing = sqlite.existing_records(account_id=prepared.account_id, kind=kind, ids=list(incoming))
            by_kind[kind] = {
                key: record_merge(old=existing.get(key), new=rec) for key, rec in incoming.items()
            }
            rows.extend(
                entity_rows(
                    account_id=prepared.account_id, kind=kind, records=by_kind[kind], stamp=prepared.stamp
                )
            )
        sqlite.upsert_rows(rows)
        merged_in_database = {}
    return {
        kind: [
            from_json(merged_in_database[(kind, key)]) if (kind, key) in merged_in_database else record
            for key, record in incoming.items()
        ]
        for kind, incoming in by_kind.items()
    }


def entities_delete(*, account_id: int, deleted: dict[str, list[str]]) -> dict[str, list[str]]:
    """Delete rows by platform id; returns the ids asked for, by kind (absent ids are not an error)."""
    removed: dict[str, list[str]] = {}
    for kind, ids in deleted.items():
        if not ids:
            continue
        for chunk in chunks(list(dict.fromkeys(ids))):
            Entity.objects.filter(account_id=account_id, kind=kind, platform_id__in=chunk).delete()
        removed[kind] = list(dict.fromkeys(ids))
    return removed

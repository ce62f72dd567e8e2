"""PostgreSQL's upsert: the rows are streamed as COPY text into a per-connection temporary table, then
one `INSERT ... SELECT ... ON CONFLICT` moves them and merges an existing row in SQL
(`merge.MERGE_SET_SQL`, the same rule as `merge.record_merge`)."""

from __future__ import annotations

import weakref
from typing import Any

from django.db import connection

from datasync.persistence.merge import MERGE_SET_SQL
from datasync.persistence.rows import COLUMNS, entity_table

_STAGING = "imhub_entity_staging"
_STAGING_MADE: weakref.WeakSet[Any] = weakref.WeakSet()  # psycopg connections that have it


def upsert_copy(copy_text: str) -> dict[tuple[str, str], str]:
    """Upsert the rows of `copy_text` (the staging rows in COPY's text format, `copy_line`), deleting
    them from the staging table as they are moved. Returns the merged record (JSON text) of each row
    that existed, by (kind, platform id); new rows come back as sent. Measured on 500-comment frames:
    21 ms new / 18 ms updated for the COPY and the upsert, against 38 / 49 ms for one
    `jsonb_to_recordset()` statement and 140 / 86 ms for `unnest()` of arrays (docs/benchmarks.md)."""
    table = entity_table()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        if raw.connection not in _STAGING_MADE:
            # made in this transaction: gone again if it rolls back, so known only after the commit
            raw.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (account_id bigint, kind varchar(16), "
                "platform_id varchar(255), record text, sort_at bigint, parent_key varchar(255), "
                "updated_ms bigint) ON COMMIT DELETE ROWS"
            )
            made = raw.connection
            connection.on_commit(lambda: _STAGING_MADE.add(made))
        with raw.copy(f"COPY {_STAGING} ({COLUMNS}) FROM STDIN") as copy:
            copy.write(copy_text)
        raw.execute(
            # the staging rows are deleted as they are moved: a transaction may upsert more than once
            f"WITH staged AS (DELETE FROM {_STAGING} RETURNING *) "
            f"INSERT INTO {table} AS t ({COLUMNS}) SELECT account_id, kind, platform_id, record::jsonb, "
            "sort_at, parent_key, updated_ms FROM staged "
            f"ON CONFLICT (account_id, kind, platform_id) DO UPDATE SET {MERGE_SET_SQL} "
            # xmax is 0 on a row this statement inserted: only merged rows send their record back
            "RETURNING kind, platform_id, CASE WHEN t.xmax = 0 THEN NULL ELSE t.record::text END"
        )
        return {
            (kind, platform_id): record for kind, platform_id, record in raw.fetchall() if record is not None
        }


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One field of COPY's text format: NULL as \\N, a backslash, tab, newline or CR escaped."""
    if value is None:
        return "\\N"
    text = str(value)
    return (
        text.translate(_COPY_ESCAPES)
        if ("\\" in text or "\t" in text or "\n" in text or "\r" in text)
        else text
    )


def copy_line(row: tuple[Any, ...]) -> str:
    """A staging row as one line of COPY text (psycopg's write_row cost ~5 us per row)."""
    return "\t".join(map(_copy_text, row)) + "\n"

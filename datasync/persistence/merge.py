"""The merge rule of a stored row and a newer crawl of it: merge, never replace. Written once per engine
that runs it, side by side here, and tested against each other on SQLite and PostgreSQL
(`tests/datasync/test_merge_rule.py`: the same cases through `record_merge` and through each database).

- the record: every key of the newer record wins, except a None (JSON null) over a key the row
  already has, which keeps the known value (a crawl that misses a field never erases it); a key the
  row lacks comes in, None or not. Top-level keys only: a nested object is one value.
- `sort_at` and `parent_key`, the row's columns read from the merged record (`row_columns`): a newer
  crawl without them keeps the row's.

SQLite merges in Python (`record_merge` on the stored records, then a plain upsert); PostgreSQL merges
in the `ON CONFLICT` clause (`MERGE_SET_SQL`), so a frame costs one statement.
"""

from __future__ import annotations

from typing import Any

# the column a row is ordered by, and the column naming its parent (a comment's work, a message's
# conversation), per kind
SORT_FIELD: dict[str, str] = {
    "contents": "published_at",
    "comments": "created_at",
    "conversations": "last_message_at",
    "messages": "created_at",
    "notifications": "created_at",
}
PARENT_FIELD: dict[str, str | None] = {
    "contents": None,
    "comments": "content_id",
    "conversations": None,
    "messages": "conversation_id",
    "notifications": None,
}


def record_merge(*, old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The row's state after a newer crawl: every known value of `new` wins, None never erases.

    Returns `new` itself when there is nothing to merge with (the caller owns the dicts).
    """
    if not old:
        return new
    merged = dict(old)
    for key, value in new.items():
        if value is not None or key not in merged:
            merged[key] = value
    return merged


def row_columns(*, kind: str, record: dict[str, Any]) -> tuple[Any, str]:
    """(sort_at, parent_key) of a row holding `record` (a merged record: its known values)."""
    parent_field = PARENT_FIELD[kind]
    return record.get(SORT_FIELD[kind]), (record.get(parent_field) or "") if parent_field else ""


def _parent_field_sql() -> str:
    """The parent field's name of a row's kind, as SQL over `excluded.kind` (from `PARENT_FIELD`)."""
    whens = " ".join(f"WHEN '{kind}' THEN '{field}'" for kind, field in PARENT_FIELD.items() if field)
    return f"(CASE excluded.kind {whens} END)"


# The same rule as the `ON CONFLICT ... DO UPDATE SET` of PostgreSQL's upsert (`t` is the stored row,
# `excluded` the newer one): the stored record, then every key of the new one except its nulls over
# stored keys; `sort_at` the new one unless null; `parent_key` the new one unless the new record has no
# parent value (absent or null), as `row_columns` of the merged record gives.
MERGE_SET_SQL = (
    "record = t.record || (excluded.record - ARRAY(SELECT key FROM jsonb_each(excluded.record) "
    "WHERE value = 'null'::jsonb AND t.record ? key)), "
    "sort_at = COALESCE(excluded.sort_at, t.sort_at), "
    f"parent_key = CASE WHEN COALESCE(excluded.record -> {_parent_field_sql()}, 'null'::jsonb) = 'null'::jsonb "
    "THEN t.parent_key ELSE excluded.parent_key END, "
    "updated_ms = excluded.updated_ms"
)

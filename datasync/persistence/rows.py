"""The Entity table as the raw-SQL writers and readers see it: its name, the upsert's columns, and
chunks of ids or rows per statement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection

from datasync.models import Entity

CHUNK = 500
COLUMNS = "account_id, kind, platform_id, record, sort_at, parent_key, updated_ms"


def entity_table() -> str:
    """The Entity table's quoted name on this connection."""
    return connection.ops.quote_name(Entity._meta.db_table)


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

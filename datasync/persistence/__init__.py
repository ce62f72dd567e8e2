"""Durable rows: the idempotent bulk upsert of sync frames, deletions, sync state and loading the rows
back into a DataStore. A package by job:

- `merge.py`: the one merge rule (merge, never replace: a None in a newer crawl never erases a known
  value), in Python for SQLite and in SQL for PostgreSQL, side by side, tested against each other;
- `upsert.py`: `upserts_prepare` (the CPU work, before the transaction) and `entities_upsert[_prepared]`,
  `entities_delete`, dispatching to `sqlite.py` or `postgres.py`;
- `state.py`: `sync_frame_lock`, `sync_state_advance`, `revision_bump`, `account_states_load`;
- `load.py`: the rows read back (`account_records_load`, `store_load_account`, counts);
- `signals.py`: a deleted account's row lock (`entity_signals_connect`).
"""

from datasync.persistence.load import (
    account_records_load,
    entity_counts,
    entity_counts_by_account,
    rows_in_order,
    store_load_account,
)
from datasync.persistence.merge import record_merge
from datasync.persistence.signals import entity_signals_connect
from datasync.persistence.state import account_states_load, revision_bump, sync_frame_lock, sync_state_advance
from datasync.persistence.upsert import (
    PreparedUpserts,
    entities_delete,
    entities_upsert,
    entities_upsert_prepared,
    upserts_prepare,
)

__all__ = [
    "PreparedUpserts",
    "account_records_load",
    "account_states_load",
    "entities_delete",
    "entities_upsert",
    "entities_upsert_prepared",
    "entity_counts",
    "entity_counts_by_account",
    "entity_signals_connect",
    "record_merge",
    "revision_bump",
    "rows_in_order",
    "store_load_account",
    "sync_frame_lock",
    "sync_state_advance",
    "upserts_prepare",
]

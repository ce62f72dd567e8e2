"""Where each account's sync stream stands (SyncState) and the account row lock of a sync frame."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from accounts.models import Account
from datasync.models import SyncState


def account_states_load() -> dict[int, tuple[int, int]]:
    """(last_seq, revision) of every account with a sync state."""
    return {
        account_id: (last_seq, revision)
        for account_id, last_seq, revision in SyncState.objects.values_list(
            "account_id", "last_seq", "revision"
        )
    }


def sync_frame_lock(*, account_id: int) -> tuple[tuple[Any, Any] | None, str, int]:
    """For one sync frame, in the caller's transaction and in one statement: the account's row
    locked (PostgreSQL), its (worker pk, epoch) for `account_holder_verify` (None: no such account),
    its platform, and its last applied seq (a missing SyncState row is created).

    SyncState itself is not locked here: only sync frames write `last_seq`, and they hold the
    account's lock; a reply's `revision_bump` may run meanwhile, so `sync_state_advance` increments
    the revision in SQL and returns it."""
    account_table = connection.ops.quote_name(Account._meta.db_table)
    state_table = connection.ops.quote_name(SyncState._meta.db_table)
    lock = " FOR UPDATE OF a" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.worker_id, a.epoch, a.platform, s.last_seq FROM {account_table} a "
            f"LEFT JOIN {state_table} s ON s.account_id = a.id WHERE a.id = %s{lock}",
            [account_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None, "", 0
    held, platform, last_seq = (row[0], row[1]), str(row[2]), row[3]
    if last_seq is None:
        last_seq = SyncState.objects.get_or_create(account_id=account_id)[0].last_seq
    return held, platform, int(last_seq)


def sync_state_advance(
    *, account_id: int, epoch: int, seq: int, at: datetime, items: int, deleted: int
) -> int:
    """Record one applied sync frame (SyncState: seq, counters, one more revision; and the account's
    last_sync_at) in the caller's transaction, after `sync_frame_lock`; returns the new revision."""
    state_table = connection.ops.quote_name(SyncState._meta.db_table)
    account_table = connection.ops.quote_name(Account._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(at)
    state_sql = (
        f"UPDATE {state_table} SET epoch = %s, last_seq = %s, last_sync_at = %s, "
        "frames_applied = frames_applied + 1, items_applied = items_applied + %s, "
        "items_deleted = items_deleted + %s, revision = revision + 1 WHERE account_id = %s RETURNING revision"
    )
    state_params = [epoch, seq, stamp, items, deleted, account_id]
    account_sql = f"UPDATE {account_table} SET last_sync_at = %s WHERE id = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one round trip for both
            cursor.execute(f"WITH touched AS ({account_sql}) {state_sql}", [stamp, account_id, *state_params])
        else:
            cursor.execute(account_sql, [stamp, account_id])
            cursor.execute(state_sql, state_params)
        return int(cursor.fetchone()[0])


def revision_bump(*, account_id: int) -> tuple[int, int]:
    """Count one more write of the account's entities outside a sync frame (inside the caller's
    transaction); returns the account's (last_seq, revision) after it."""
    state, _ = SyncState.objects.select_for_update().get_or_create(account_id=account_id)
    state.revision += 1
    state.save(update_fields=["revision"])
    return state.last_seq, state.revision

"""The start-up snapshot: a hub process's read model on local disk, so the next start need not
re-read and re-index every row.

A snapshot holds, per account, the items of the account as plain tuples (`datasync.store.bulk`)
and the account's `SyncState.revision` those items are exactly up to date with: the store counts
a revision only once every change up to it is applied (`AccountIndex.revision_applied`), and every
write of an account's entities bumps the revision in the same transaction (a sync frame, a sent
reply's entity). At start-up (`store_load`), an account is taken from the snapshot only when its
revision and its row count equal the database's; every other account is read from the database.
So a snapshot can make a start faster, never staler: the worst it can do is not be used.

The file is a fixed prefix (`PREFIX`), the CRC-32 of the body (4 bytes, big-endian) and the body:
`marshal` data (Python's own fast format for plain values; it is read only from the hub's own data
directory, never from a network). A body whose checksum does not match (a changed byte, a torn copy)
is not used, and any error reading the file (a directory, no permission, a short read) falls back to
the database with a note. It is written to a temporary file and renamed, so a reader sees the old
snapshot or the new one. The header names the database, so a snapshot of
another database is never used. Hub-owned read state is not in it: the read marks are replayed
from the database after every load.
"""

from __future__ import annotations

import logging
import marshal
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from datasync.persistence import account_records_load, account_states_load, entity_counts_by_account
from datasync.store import DataStore
from datasync.store.bulk import account_build, items_from_rows
from datasync.store.items import CommentItem, ContentItem, ConversationItem, MessageItem

logger = logging.getLogger(__name__)

FORMAT = 4  # 2: attachments; 3: contents carry platform_type; 4: the CRC-32 prefix
MAGIC = "imhub-datastore-snapshot"
PREFIX = b"IMHUBSNAP4\n"


def database_name() -> str:
    """Which database a snapshot belongs to (vendor, host, port, name)."""
    conf = connection.settings_dict
    return f"{connection.vendor}://{conf.get('HOST') or ''}:{conf.get('PORT') or ''}/{conf.get('NAME')}"


def snapshot_path() -> Path | None:
    raw = settings.IMHUB_SNAPSHOT_PATH
    return Path(raw) if raw else None


@dataclass
class LoadReport:
    """What a start-up load did: accounts and rows from the snapshot and from the database."""

    snapshot_accounts: int = 0
    snapshot_rows: int = 0
    database_accounts: int = 0
    database_rows: int = 0
    snapshot_note: str = ""
    revisions: dict[int, int] = field(default_factory=dict)
    last_seqs: dict[int, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.snapshot_rows + self.database_rows


def _rows_count(rows: Any) -> int:
    return sum(len(part) for part in rows)


def snapshot_read(path: Path, *, database: str) -> tuple[dict[int, tuple[int, Any]], str]:
    """{account_id: (revision, rows)} of a usable snapshot at `path` (empty when there is none, it
    belongs elsewhere, its checksum fails or it cannot be read), and a note saying which."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, "no snapshot"
    except OSError as exc:  # a directory, no permission, an I/O error: read the database instead
        logger.warning("ignoring an unreadable DataStore snapshot at %s: %s", path, exc)
        return {}, f"unreadable snapshot ({type(exc).__name__})"
    if not raw.startswith(PREFIX) or len(raw) < len(PREFIX) + 4:
        return {}, "snapshot of another format"
    start = len(PREFIX) + 4
    body = raw[start:]
    if zlib.crc32(body) != int.from_bytes(raw[len(PREFIX) : start], "big"):
        logger.warning("ignoring a DataStore snapshot whose checksum does not match at %s", path)
        return {}, "snapshot checksum mismatch"
    try:
        data = marshal.loads(body)
        header, accounts = data
        if header.get("magic") != MAGIC or header.get("format") != FORMAT:
            return {}, "snapshot of another format"
        if header.get("database") != database:
            return {}, "snapshot of another database"
        return {
            int(account_id): (int(revision), rows) for account_id, revision, rows in accounts
        }, "snapshot read"
    except Exception as exc:  # any damage the checksum missed: the database is the truth
        logger.warning("ignoring an unreadable DataStore snapshot at %s: %s", path, exc)
        return {}, "unreadable snapshot"


def snapshot_write(store: DataStore, path: Path, *, database: str) -> tuple[int, int]:
    """Write every account the store holds at a known revision; returns (accounts, rows)."""
    accounts = []
    rows_total = 0
    for account_id in store.account_ids():
        exported = store.account_export(account_id)
        if exported is None:
            continue
        revision, rows = exported
        accounts.append((account_id, revision, rows))
        rows_total += _rows_count(rows)
    header = {"magic": MAGIC, "format": FORMAT, "database": database, "written_ms": int(time.time() * 1000)}
    blob = marshal.dumps((header, accounts))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(PREFIX + zlib.crc32(blob).to_bytes(4, "big"))
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return len(accounts), rows_total


def _records_build(account_id: int, records: dict[str, list[dict[str, Any]]]) -> Any:
    return account_build(
        account_id,
        contents=[ContentItem(r) for r in records.get("contents", ())],
        comments=[CommentItem(r) for r in records.get("comments", ())],
        conversations=[ConversationItem(r) for r in records.get("conversations", ())],
        messages=[MessageItem(r) for r in records.get("messages", ())],
        notifications=list(records.get("notifications", ())),
    )


def store_load(store: DataStore, *, path: Path | None) -> LoadReport:
    """Fill an empty store with every account: from the snapshot where it is current, else from the
    database. Reads the accounts' (last_seq, revision) first, so the rows read after it are at least
    that new; the caller replays what arrived since (changes above the revision)."""
    report = LoadReport()
    states = account_states_load()
    counts = entity_counts_by_account()
    snapshot: dict[int, tuple[int, Any]] = {}
    if path is not None:
        snapshot, report.snapshot_note = snapshot_read(path, database=database_name())
    stale: list[int] = []
    for account_id in sorted(set(states) | set(counts)):
        last_seq, revision = states.get(account_id, (0, 0))
        report.last_seqs[account_id] = last_seq
        report.revisions[account_id] = revision
        entry = snapshot.pop(account_id, None)
        if entry is not None and entry[0] == revision and _rows_count(entry[1]) == counts.get(account_id, 0):
            contents, comments, conversations, messages, notifications = items_from_rows(entry[1])
            index = account_build(
                account_id,
                contents=contents,
                comments=comments,
                conversations=conversations,
                messages=messages,
                notifications=notifications,
            )
            store.account_install(index, revision=revision)
            report.snapshot_accounts += 1
            report.snapshot_rows += counts.get(account_id, 0)
        else:
            stale.append(account_id)
    del snapshot
    if stale:
        empty = set(stale)
        # every stale account at once when none came from the snapshot (one ordered scan)
        every = len(stale) == len(report.revisions)
        for account_id, records in account_records_load(account_ids=None if every else stale):
            empty.discard(account_id)
            index = _records_build(account_id, records)
            store.account_install(index, revision=report.revisions.get(account_id, 0))
            report.database_accounts += 1
            report.database_rows += sum(len(r) for r in records.values())
        for account_id in empty:
            store.account_install(
                _records_build(account_id, {}), revision=report.revisions.get(account_id, 0)
            )
    return report

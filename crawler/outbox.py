"""Durable per-account outbox (SQLite) plus the data manager's record hashes, in one file per account
(which also holds the reply journal, `crawler/replyjournal.py`).

Every change leaves the worker as a `worker:data:sync` frame with a per-account `seq` that increases by
one per frame. Frames are written here before they are sent and deleted only when the hub acks them
(an ack means durable on the hub), so a worker killed mid-sync resends everything unacked when it comes
back. Record hashes (change detection, see `crawler.datamanager`) are committed in the same transaction
as the frames that carry the changes: a change is either queued for the hub or not remembered at all.

seq rules (docs/architecture.md): seq is per account and continues across epochs; the assignment's
`last_seq` says where the hub stands. `outbox_align` drops what the hub already has, renumbers pending
frames to follow `last_seq` without a gap, and reports when the hub is behind what it once acked (its
data was lost), so the caller can forget its hashes and send a full snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasync.protocol import ENTITY_KINDS

MAX_FRAME_BYTES = 256 * 1024  # well below the hub's frame limit
SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, mode TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hashes (kind TEXT NOT NULL, id TEXT NOT NULL, hash TEXT NOT NULL,
                                   PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replies (reply_id TEXT PRIMARY KEY, phase TEXT NOT NULL, request TEXT NOT NULL,
                                    result TEXT, updated_ms INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class PendingFrame:
    """One queued sync payload: `body` is `{"entities": {...}, "deleted": {...}}` as JSON."""

    seq: int
    mode: str
    body: str


class Outbox:
    """The SQLite file of one account: queued frames, record hashes and seq bookkeeping."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _meta(self, key: str) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _meta_set(self, key: str, value: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def last_seq(self) -> int:
        """The highest seq ever assigned (acked or not)."""
        return self._meta("last_seq")

    @property
    def acked_seq(self) -> int:
        return self._meta("acked_seq")

    def depth(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM frames").fetchone()[0])

    def pending(self, *, after: int = 0, limit: int = 1000) -> list[PendingFrame]:
        rows = self.db.execute(
            "SELECT seq, mode, body FROM frames WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        ).fetchall()
        return [PendingFrame(seq=int(s), mode=str(m), body=str(b)) for s, m, b in rows]

    def hashes(self, *, kind: str) -> dict[str, str]:
        rows = self.db.execute("SELECT id, hash FROM hashes WHERE kind = ?", (kind,)).fetchall()
        return {str(i): str(h) for i, h in rows}


def outbox_open(*, data_dir: Path, account_id: int) -> Outbox:
    """Open (or create) the outbox file of one account under `data_dir/accounts/`."""
    return Outbox(data_dir / "accounts" / f"{account_id}.sqlite3")


def _chunks(
    entities: dict[str, list[dict[str, Any]]], deleted: dict[str, list[str]], max_bytes: int
) -> list[dict[str, Any]]:
    """Split one change set into frame bodies whose JSON stays below `max_bytes` (kinds kept in order)."""
    bodies: list[dict[str, Any]] = []
    current: dict[str, Any] = {"entities": {}, "deleted": {}}
    size = 100
    for kind in ENTITY_KINDS:
        for record in entities.get(kind, []):
            record_size = len(json.dumps(record, ensure_ascii=False).encode()) + 2
            if size + record_size > max_bytes and (current["entities"] or current["deleted"]):
                bodies.append(current)
                current, size = {"entities": {}, "deleted": {}}, 100
            current["entities"].setdefault(kind, []).append(record)
            size += record_size
    for deleted_kind, ids in deleted.items():
        if ids:
            current["deleted"][deleted_kind] = list(ids)
    if current["entities"] or current["deleted"]:
        bodies.append(current)
    return bodies


def outbox_append(
    *,
    outbox: Outbox,
    entities: dict[str, list[dict[str, Any]]],
    deleted: dict[str, list[str]] | None = None,
    hashes: dict[str, dict[str, str]] | None = None,
    mode: str = "delta",
    max_bytes: int = MAX_FRAME_BYTES,
) -> list[int]:
    """Queue a change set as one or more frames (chunked) and remember `hashes`, atomically.

    Returns the seqs assigned (empty when there was nothing to send).
    """
    bodies = _chunks(entities, deleted or {}, max_bytes)
    seqs: list[int] = []
    db = outbox.db
    db.execute("BEGIN IMMEDIATE")
    try:
        seq = outbox.last_seq
        for body in bodies:
            seq += 1
            db.execute(
                "INSERT INTO frames (seq, mode, body) VALUES (?, ?, ?)",
                (seq, mode, json.dumps(body, ensure_ascii=False, separators=(",", ":"))),
            )
            seqs.append(seq)
        outbox._meta_set("last_seq", seq)
        for kind, by_id in (hashes or {}).items():
            db.executemany(
                "INSERT OR REPLACE INTO hashes (kind, id, hash) VALUES (?, ?, ?)",
                [(kind, record_id, digest) for record_id, digest in by_id.items()],
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return seqs


def outbox_ack(*, outbox: Outbox, seq: int) -> int:
    """The hub durably applied everything up to `seq`: delete those frames. Returns how many were deleted."""
    db = outbox.db
    db.execute("BEGIN IMMEDIATE")
    try:
        deleted = db.execute("DELETE FROM frames WHERE seq <= ?", (seq,)).rowcount
        if seq > outbox.acked_seq:
            outbox._meta_set("acked_seq", seq)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return int(deleted)


def outbox_align(*, outbox: Outbox, hub_last_seq: int, epoch: int) -> bool:
    """Line the outbox up with the hub's `last_seq` for the assignment at `epoch`.

    Same epoch as the frames were queued under: this worker was the only writer, so frames with
    `seq <= hub_last_seq` were applied (their ack was lost) and are dropped. Another epoch: the account
    was held by someone else in between, so nothing pending is known to be applied and all of it is
    resent (the hub's upsert is idempotent). Either way the remaining frames are renumbered to follow
    `hub_last_seq` without a gap (order kept). Returns True when the hub stands below what it once
    acked to this worker (it lost data): the hashes are then forgotten so everything is resent.
    """
    db = outbox.db
    db.execute("BEGIN IMMEDIATE")
    try:
        hub_lost_data = hub_last_seq < outbox.acked_seq  # seq never goes back, across epochs too
        if epoch == outbox._meta("epoch"):
            db.execute("DELETE FROM frames WHERE seq <= ?", (hub_last_seq,))
        rows = db.execute("SELECT seq FROM frames ORDER BY seq").fetchall()
        if rows and int(rows[0][0]) != hub_last_seq + 1:
            # Two passes through negative numbers so the primary key never collides.
            db.execute("UPDATE frames SET seq = -seq")
            for offset, (old,) in enumerate(rows, start=1):
                db.execute("UPDATE frames SET seq = ? WHERE seq = ?", (hub_last_seq + offset, -int(old)))
        outbox._meta_set("last_seq", hub_last_seq + len(rows))
        outbox._meta_set("acked_seq", hub_last_seq)
        outbox._meta_set("epoch", epoch)
        if hub_lost_data:
            db.execute("DELETE FROM hashes")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return hub_lost_data


def outbox_forget_hashes(*, outbox: Outbox) -> None:
    """Forget every record hash (a resync: the next crawl sends everything it sees)."""
    outbox.db.execute("DELETE FROM hashes")

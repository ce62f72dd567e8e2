"""Per-account data manager: dedupe by id and change detection, so only new or changed records leave.

Decision: hashes are persisted (in the account's outbox file, committed with the frames that carry the
changes), so a restarted worker does not resend everything it already delivered; the hub's idempotent
upsert makes any resend harmless anyway. A `master:resync` (or a hub that lost data) clears the hashes
and the next crawl goes out as a full snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from crawler.outbox import Outbox, outbox_append, outbox_forget_hashes
from datasync.protocol import ENTITY_ID_FIELDS


def record_hash(record: dict[str, Any]) -> str:
    """A stable digest of a record's JSON (keys sorted)."""
    raw = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


@dataclass
class DataManager:
    """Remembers what was delivered for one account; `data_submit` queues only what changed."""

    outbox: Outbox
    cache: dict[str, dict[str, str]] = field(default_factory=dict)
    snapshot_pending: bool = False

    def known(self, kind: str) -> dict[str, str]:
        if kind not in self.cache:
            self.cache[kind] = self.outbox.hashes(kind=kind)
        return self.cache[kind]

    def forget(self) -> None:
        """Forget what was delivered (memory and file): the next crawl sends everything as a snapshot."""
        outbox_forget_hashes(outbox=self.outbox)
        self.cache.clear()
        self.snapshot_pending = True


def data_submit(
    *, manager: DataManager, kind: str, records: Sequence[BaseModel] | Sequence[dict[str, Any]]
) -> int:
    """Dedupe `records` by id, keep the new or changed ones, queue them durably; returns how many."""
    id_field = ENTITY_ID_FIELDS[kind]
    known = manager.known(kind)
    changed: dict[str, dict[str, Any]] = {}
    digests: dict[str, str] = {}
    for item in records:
        record = item.model_dump(mode="json") if isinstance(item, BaseModel) else dict(item)
        record_id = str(record[id_field])
        digest = record_hash(record)
        if known.get(record_id) == digest:
            continue
        changed[record_id] = record  # a later duplicate in the same batch wins
        digests[record_id] = digest
    if not changed:
        return 0
    mode = "snapshot" if manager.snapshot_pending else "delta"
    outbox_append(
        outbox=manager.outbox,
        entities={kind: list(changed.values())},
        hashes={kind: digests},
        mode=mode,
    )
    known.update(digests)
    return len(changed)

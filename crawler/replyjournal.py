"""The worker's reply journal: every reply it took, durably, in the account's SQLite file (the outbox's).

A reply is journaled when its request arrives (`received`), marked `posting` right before send is
pressed, and holds its result (`done`) until the result frame has gone out; then it is forgotten. A
worker that died on the way settles each row when it is back (`Worker.replies_settle`): a stored result
is sent again; a reply that was never posted is `failed` (`worker_restarted`: safe to retry); one that
may have been posted is looked for in its thread: `sent` with that proof, else `unknown`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from crawler.outbox import Outbox
from datasync.protocol.frames import ReplyRequestPayload, ReplyResultPayload

RECEIVED, POSTING, DONE = "received", "posting", "done"


@dataclass(frozen=True)
class JournalEntry:
    """One journaled reply: its phase, the request, when the phase began (epoch ms), the result."""

    reply_id: str
    phase: str
    request: ReplyRequestPayload
    updated_ms: int
    result: ReplyResultPayload | None = None


def _now_ms() -> int:
    return int(time.time() * 1000)


def journal_received(*, outbox: Outbox, request: ReplyRequestPayload) -> None:
    """A reply request arrived (nothing posted yet); a request seen before keeps its row."""
    outbox.db.execute(
        "INSERT OR IGNORE INTO replies (reply_id, phase, request, updated_ms) VALUES (?, ?, ?, ?)",
        (request.reply_id, RECEIVED, request.model_dump_json(), _now_ms()),
    )


def journal_posting(*, outbox: Outbox, reply_id: str) -> None:
    """Send is about to be pressed: from here on the reply may exist on the platform."""
    outbox.db.execute(
        "UPDATE replies SET phase = ?, updated_ms = ? WHERE reply_id = ?", (POSTING, _now_ms(), reply_id)
    )


def journal_done(*, outbox: Outbox, result: ReplyResultPayload) -> None:
    """The reply's outcome is known; kept until the result frame has gone out."""
    outbox.db.execute(
        "UPDATE replies SET phase = ?, result = ?, updated_ms = ? WHERE reply_id = ?",
        (DONE, result.model_dump_json(), _now_ms(), result.reply_id),
    )


def journal_forget(*, outbox: Outbox, reply_id: str) -> None:
    outbox.db.execute("DELETE FROM replies WHERE reply_id = ?", (reply_id,))


def journal_entries(*, outbox: Outbox) -> list[JournalEntry]:
    """Every journaled reply, oldest first."""
    rows = outbox.db.execute(
        "SELECT reply_id, phase, request, result, updated_ms FROM replies ORDER BY updated_ms"
    ).fetchall()
    return [
        JournalEntry(
            reply_id=str(reply_id),
            phase=str(phase),
            request=ReplyRequestPayload.model_validate(json.loads(request)),
            updated_ms=int(updated_ms),
            result=ReplyResultPayload.model_validate(json.loads(result)) if result else None,
        )
        for reply_id, phase, request, result, updated_ms in rows
    ]

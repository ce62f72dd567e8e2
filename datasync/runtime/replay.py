"""What arrives while the store loads is buffered, then replayed: the rule of which `sync` changes the
load already covered.

The load reads each account's (last_seq, revision) first, then its rows; a change whose revision was
committed before the revisions were read has its rows in the load too, so replaying it would apply it
twice (harmless for upserts, but it would re-announce items as new). A change without a revision (an
older hub's, or a reload after a fan-out gap) falls back to the seq: strictly older only, since a
change at the loaded seq may carry a row written outside a sync frame (a sent reply's entity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasync.store import Change


@dataclass
class LoadPoint:
    """Where the load left each account: its last seq and revision as read before its rows."""

    seqs: dict[int, int] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)

    def covers(self, change: Change) -> bool:
        """True when the load already holds what `change` brought (see the module docstring)."""
        if change.revision is not None:
            return change.revision <= self.revisions.get(change.account_id, 0)
        return change.seq < self.seqs.get(change.account_id, 0)


def replay_plan(buffered: list[tuple[str, Any]], point: LoadPoint) -> list[tuple[str, Any]]:
    """The buffered `(kind, data)` to dispatch after the load, in arrival order: every kind but the
    `sync` changes the load covers."""
    return [(kind, data) for kind, data in buffered if not (isinstance(data, Change) and point.covers(data))]

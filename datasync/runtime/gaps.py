"""Fan-out gaps: a `sync` change lost between hub processes (a full channel, a failed publish) shows as
a skipped seq of its account. The gap is counted (`process.fanout_gaps`), logged, and the account's rows
are re-read from the database in a background thread and applied like any change (`Runtime.reapply`),
so the items the lost change carried reach this process's agents too (upserts only: a deletion lost in
the fan-out stays in this process's store until its next start)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from datasync import stats
from datasync.persistence import store_load_account
from datasync.runtime.threads import with_connections
from datasync.store import Change

logger = logging.getLogger("datasync.runtime")


class SeqWatch:
    """The last `sync` seq this process saw per account, from the load's onwards."""

    def __init__(self, seen: dict[int, int] | None = None) -> None:
        self._seen: dict[int, int] = dict(seen or {})

    def gap(self, account_id: int, seq: int) -> int | None:
        """Record `seq` of the account; the seq seen before it when one or more were skipped, else None."""
        previous = self._seen.get(account_id)
        self._seen[account_id] = max(previous or 0, seq)
        return previous if previous is not None and seq > previous + 1 else None


def gap_reload(*, account_id: int, seq: int, previous: int, apply: Callable[[Change], Any]) -> None:
    """Count and log a gap in the account's seqs, and reload its rows into `store` in a thread."""
    stats.stats_fanout_gap(account_id=account_id)
    logger.warning(
        "fan-out gap: account_id=%s got seq %d after %d; reloading the account from the database",
        account_id,
        seq,
        previous,
    )

    def reload() -> None:
        try:
            rows = store_load_account(account_id=account_id, apply=apply)
        except Exception:
            logger.exception("reloading account_id=%s after a fan-out gap failed", account_id)
            return
        logger.info("reloaded account_id=%s after a fan-out gap: %d rows", account_id, rows)

    threading.Thread(target=with_connections(reload), daemon=True).start()

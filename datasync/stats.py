"""Hub statistics: per-process counters (thread-safe) plus database-backed totals for the stats API.

Counters are per hub process (what this process received); the database part (sync states, workers,
accounts) is shared by all processes. `stats_snapshot()` is what `GET /api/datasync/stats/` returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

_lock = threading.Lock()


class _Counters:
    def __init__(self) -> None:
        self.started_at = int(time.time() * 1000)
        self.frames_received = 0
        self.frames_by_type: Counter[str] = Counter()
        self.sync_frames_applied = 0
        self.sync_frames_duplicate = 0
        self.frames_rejected: Counter[str] = Counter()
        self.items_applied = 0
        self.items_deleted = 0
        self.last_receive_at: int | None = None
        self.last_receive_by_account: dict[int, int] = {}
        self.sockets: Counter[str] = Counter()
        self.auth_failures = 0
        self.fanout_gaps = 0
        self.lane_answered = 0
        self.lane_passed = 0


_counters = _Counters()


def stats_reset() -> None:
    """Forget every per-process counter (tests)."""
    global _counters
    with _lock:
        _counters = _Counters()


def stats_frame_received(*, frame_type: str | None) -> None:
    with _lock:
        _counters.frames_received += 1
        _counters.frames_by_type[frame_type or "<unparsed>"] += 1
        _counters.last_receive_at = int(time.time() * 1000)


def stats_lane(*, answered: bool) -> None:
    """One read-route request: answered by the read lane, or passed to Django (event loop only, no lock:
    the lane runs on one thread and a lost increment under a race would only blur a diagnostic)."""
    if answered:
        _counters.lane_answered += 1
    else:
        _counters.lane_passed += 1


def stats_frame_rejected(*, code: str) -> None:
    with _lock:
        _counters.frames_rejected[code] += 1


APPLY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_apply_counts = [0] * (len(APPLY_BUCKETS) + 1)
_apply_sum = [0.0]


def stats_apply_histogram() -> tuple[list[tuple[float, int]], float]:
    """Cumulative (upper bound, count) buckets of sync apply time in seconds, and their sum."""
    with _lock:
        cumulative, running = [], 0
        for bound, count in zip((*APPLY_BUCKETS, float("inf")), _apply_counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return (cumulative if running else []), _apply_sum[0]


def stats_sync_applied(*, account_id: int, items: int, deleted: int, seconds: float | None = None) -> None:
    with _lock:
        if seconds is not None:
            index = next((i for i, bound in enumerate(APPLY_BUCKETS) if seconds <= bound), len(APPLY_BUCKETS))
            _apply_counts[index] += 1
            _apply_sum[0] += seconds
        _counters.sync_frames_applied += 1
        _counters.items_applied += items
        _counters.items_deleted += deleted
        _counters.last_receive_by_account[account_id] = int(time.time() * 1000)


def stats_sync_duplicate(*, account_id: int) -> None:
    with _lock:
        _counters.sync_frames_duplicate += 1
        _counters.last_receive_by_account[account_id] = int(time.time() * 1000)


def stats_socket_opened(*, worker_id: str) -> None:
    with _lock:
        _counters.sockets[worker_id] += 1


def stats_socket_closed(*, worker_id: str) -> None:
    with _lock:
        _counters.sockets[worker_id] -= 1
        if _counters.sockets[worker_id] <= 0:
            del _counters.sockets[worker_id]


def stats_fanout_gap(*, account_id: int) -> None:
    with _lock:
        _counters.fanout_gaps += 1


def stats_auth_failed() -> None:
    with _lock:
        _counters.auth_failures += 1


def stats_process() -> dict[str, Any]:
    """This process's counters as JSON-ready data."""
    with _lock:
        c = _counters
        return {
            "pid": os.getpid(),
            "started_at": c.started_at,
            "frames_received": c.frames_received,
            "frames_by_type": dict(c.frames_by_type),
            "frames_applied": c.sync_frames_applied,
            "frames_duplicate": c.sync_frames_duplicate,
            "frames_rejected": sum(c.frames_rejected.values()),
            "frames_rejected_by_code": dict(c.frames_rejected),
            "items_applied": c.items_applied,
            "items_deleted": c.items_deleted,
            "last_receive_at": c.last_receive_at,
            "last_receive_by_account": {str(k): v for k, v in c.last_receive_by_account.items()},
            "auth_failures": c.auth_failures,
            "fanout_gaps": c.fanout_gaps,
            "connected_workers": sorted(c.sockets),
            "read_lane": {"answered": c.lane_answered, "passed_to_django": c.lane_passed},
        }


def _ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def stats_snapshot(*, store: Any, store_ready: bool) -> dict[str, Any]:
    """Everything the stats endpoint reports: store totals, this process, the database view."""
    from accounts.models import Account, Worker, WorkerStatus
    from datasync.models import SyncState
    from datasync.persistence import entity_counts

    states = {s.account_id: s for s in SyncState.objects.all()}
    accounts = []
    for account in Account.objects.select_related("worker").order_by("id"):
        state = states.get(account.id)
        accounts.append(
            {
                "id": account.id,
                "platform": account.platform,
                "nickname": account.nickname,
                "status": account.status,
                "login_status": account.login_status,
                "runner_status": account.runner_status,
                "listener_status": account.listener_status,
                "last_error": account.last_error,
                "worker": account.worker.worker_id if account.worker else None,
                "epoch": account.epoch,
                "last_seq": state.last_seq if state else 0,
                "last_sync_at": _ms(state.last_sync_at) if state else None,
                "frames_applied": state.frames_applied if state else 0,
                "items_applied": state.items_applied if state else 0,
                "store": store.account_totals(account.id) if store_ready else None,
            }
        )
    workers = [
        {
            "worker_id": w.worker_id,
            "status": w.status,
            "last_heartbeat_at": _ms(w.last_heartbeat_at),
            "accounts": w.accounts.count(),
        }
        for w in Worker.objects.filter(status=WorkerStatus.ONLINE).order_by("worker_id")
    ]
    process = stats_process()
    sync_times = [a["last_sync_at"] for a in accounts if a["last_sync_at"] is not None]
    return {
        "store": {"ready": store_ready, "totals": store.totals() if store_ready else None},
        "process": process,
        "database": {
            "entities": entity_counts(),
            "frames_applied": sum(s.frames_applied for s in states.values()),
            "items_applied": sum(s.items_applied for s in states.values()),
            "last_sync_at": max(sync_times) if sync_times else None,
        },
        "workers": {"online": workers, "connected_here": process["connected_workers"]},
        "accounts": accounts,
    }

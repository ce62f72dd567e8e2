"""Every hub process's sync counters, seen from any one: per-process snapshots shared through Redis.

With several hub processes on one port (``python -m imhub.serve --processes N``) a scrape of ``/metrics``
reaches one of them at random. So each process writes a snapshot of its counters (`stats_snapshot_own`)
to Redis under a key of its own with a TTL (`stats_share_publish`, a periodic job of the wiring, and at
scrape time for the scraping process), and `stats_snapshots_all` reads every live one. A process that
died stops refreshing its key, and its series disappear after `SNAPSHOT_TTL`. Without ``REDIS_URL`` (one
process) only this process's snapshot is returned. Each snapshot carries its process label
(``<hostname>:<pid>``) so that a dashboard can sum over processes.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings

from datasync.stats import stats_apply_histogram, stats_process

logger = logging.getLogger(__name__)

KEY_PREFIX = "imhub:stats:process:"
SNAPSHOT_TTL = 15  # seconds: three missed refreshes
PUBLISH_INTERVAL = 5.0

_client_lock = threading.Lock()
_client: Any = None
_client_url = ""


def process_label() -> str:
    """This process as a metrics label: ``<hostname>:<pid>`` (read each call: a forked worker has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def stats_snapshot_own() -> dict[str, Any]:
    """This process's sync counters as one JSON-ready snapshot (what every process publishes)."""
    process = stats_process()
    buckets, total = stats_apply_histogram()
    return {
        "process": process_label(),
        "frames_by_type": process["frames_by_type"],
        "frames_applied": process["frames_applied"],
        "frames_duplicate": process["frames_duplicate"],
        "frames_rejected_by_code": process["frames_rejected_by_code"],
        "items_applied": process["items_applied"],
        "fanout_gaps": process["fanout_gaps"],
        "connected_workers": len(process["connected_workers"]),
        "read_lane": process["read_lane"],
        # JSON has no infinity: the last bound is written as null
        "apply_buckets": [[None if bound == float("inf") else bound, count] for bound, count in buckets],
        "apply_sum": total,
    }


def _redis() -> Any:
    """A Redis client for ``REDIS_URL`` (one per process), or None without Redis."""
    global _client, _client_url
    url = settings.REDIS_URL
    if not url:
        return None
    with _client_lock:
        if _client is None or _client_url != url:
            import redis

            _client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            _client_url = url
        return _client


def stats_share_publish() -> dict[str, Any]:
    """Write this process's snapshot to Redis with the TTL (no-op without Redis); returns the snapshot."""
    snapshot = stats_snapshot_own()
    client = _redis()
    if client is not None:
        client.set(KEY_PREFIX + snapshot["process"], json.dumps(snapshot), ex=SNAPSHOT_TTL)
    return snapshot


def stats_snapshots_all() -> list[dict[str, Any]]:
    """Every live process's snapshot, this one's fresh (written first), sorted by process label.

    If Redis cannot be read, this process's snapshot alone is returned and the failure is logged."""
    own = stats_snapshot_own()
    client = _redis()
    if client is None:
        return [own]
    try:
        client.set(KEY_PREFIX + own["process"], json.dumps(own), ex=SNAPSHOT_TTL)
        keys = sorted(client.scan_iter(match=KEY_PREFIX + "*", count=100))
        values = client.mget(keys) if keys else []
    except Exception:
        logger.exception("reading the other processes' stats snapshots from Redis failed")
        return [own]
    snapshots = {own["process"]: own}
    for raw in values:
        if raw is None:
            continue  # expired between SCAN and MGET
        try:
            snapshot = json.loads(raw)
        except ValueError:
            logger.warning("skipping an unreadable stats snapshot in Redis")
            continue
        snapshots.setdefault(snapshot["process"], snapshot)
    return [snapshots[label] for label in sorted(snapshots)]

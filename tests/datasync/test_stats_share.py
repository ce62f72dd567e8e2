"""Sync counters shared between hub processes: snapshots in Redis, merged into `/metrics` by process."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from datasync import stats, stats_share
from imhub.metrics import sync_metrics_from_snapshots


def _snapshot(
    label: str, *, applied: int, items: int, buckets: list[list[Any]] | None = None
) -> dict[str, Any]:
    return {
        "process": label,
        "frames_by_type": {"worker:data:sync": applied + 1},
        "frames_applied": applied,
        "frames_duplicate": 0,
        "frames_rejected_by_code": {"stale_epoch": 1},
        "items_applied": items,
        "fanout_gaps": 2,
        "connected_workers": 1,
        "read_lane": {"answered": 5, "passed_to_django": 1},
        "apply_buckets": buckets or [],
        "apply_sum": 0.5 if buckets else 0.0,
    }


def _exposition(snapshots: list[dict[str, Any]]) -> str:
    class Fixed(Collector):
        def collect(self) -> Any:
            return sync_metrics_from_snapshots(snapshots)

    registry = CollectorRegistry()
    registry.register(Fixed())
    return generate_latest(registry).decode()


def test_snapshots_merge_into_series_labelled_by_process() -> None:
    # given two processes' snapshots, one with apply timings
    a = _snapshot("host:1", applied=3, items=30, buckets=[[0.01, 2], [None, 3]])
    b = _snapshot("host:2", applied=4, items=40)

    # when they are rendered (the exposition sorts each series' labels by name)
    text = _exposition([a, b])

    # then every counter appears once per process, and they sum to the hub's totals
    assert 'imhub_sync_frames_applied_total{process="host:1"} 3.0' in text
    assert 'imhub_sync_frames_applied_total{process="host:2"} 4.0' in text
    assert 'imhub_sync_items_applied_total{process="host:2"} 40.0' in text
    assert 'imhub_sync_frames_received_total{process="host:1",type="worker:data:sync"} 4.0' in text
    assert 'imhub_sync_frames_rejected_total{code="stale_epoch",process="host:2"} 1.0' in text
    assert 'imhub_fanout_gaps_total{process="host:1"} 2.0' in text
    assert 'imhub_read_lane_requests_total{outcome="answered",process="host:1"} 5.0' in text
    assert 'imhub_connected_workers{process="host:2"} 1.0' in text
    assert 'imhub_sync_apply_seconds_bucket{le="0.01",process="host:1"} 2.0' in text
    assert 'imhub_sync_apply_seconds_count{process="host:1"} 3.0' in text
    assert 'imhub_sync_apply_seconds_count{process="host:2"}' not in text  # no timings, no histogram


def test_without_redis_only_this_process_is_reported(settings: Any) -> None:
    # given no Redis and one applied frame
    settings.REDIS_URL = ""
    stats.stats_reset()
    stats.stats_sync_applied(account_id=1, items=7, deleted=0)

    # when the snapshots are read
    [own] = stats_share.stats_snapshots_all()

    # then it is this process's, labelled <hostname>:<pid>
    assert own["process"] == stats_share.process_label()
    assert own["process"].endswith(f":{os.getpid()}")
    assert (own["frames_applied"], own["items_applied"]) == (1, 7)
    json.dumps(own)  # JSON-ready, as it is stored in Redis


@pytest.fixture
def shared_redis(redis_url: str, settings: Any) -> Iterator[Any]:
    """REDIS_URL on a random logical db (other runs share the server), its snapshot keys removed after."""
    import redis

    url = urlunparse(urlparse(redis_url)._replace(path=f"/{random.randint(1, 15)}"))
    settings.REDIS_URL = url
    client = redis.Redis.from_url(url)
    yield client
    for key in client.scan_iter(match=f"{stats_share.KEY_PREFIX}test-*"):
        client.delete(key)
    client.delete(stats_share.KEY_PREFIX + stats_share.process_label())


@pytest.mark.redis
def test_snapshots_of_other_processes_are_read_from_redis_and_expire(shared_redis: Any) -> None:
    # given another process's snapshot in Redis, and this process's counters
    other = _snapshot("test-other:99", applied=2, items=20)
    shared_redis.set(
        stats_share.KEY_PREFIX + other["process"], json.dumps(other), ex=stats_share.SNAPSHOT_TTL
    )
    stats.stats_reset()
    stats.stats_sync_applied(account_id=1, items=5, deleted=0)

    # when this process publishes and reads every snapshot
    stats_share.stats_share_publish()
    snapshots = {s["process"]: s for s in stats_share.stats_snapshots_all()}

    # then both are there, this one's written with the TTL
    own_label = stats_share.process_label()
    assert snapshots["test-other:99"]["frames_applied"] == 2
    assert snapshots[own_label]["items_applied"] == 5
    assert 0 < shared_redis.ttl(stats_share.KEY_PREFIX + own_label) <= stats_share.SNAPSHOT_TTL

    # and when the other process's key expires (a dead process stops refreshing it), its series go
    shared_redis.delete(stats_share.KEY_PREFIX + other["process"])
    assert "test-other:99" not in {s["process"] for s in stats_share.stats_snapshots_all()}

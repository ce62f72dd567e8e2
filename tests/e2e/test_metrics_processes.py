"""End-to-end: `/metrics` through the shared port of two hub processes shows both processes' sync counters."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, worker_connect
from tests.support.processes import Hub, make_hub, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

MAX_FRAMES = 200  # bounded: the kernel spreads new connections over the processes, not evenly


def applied_by_process(hub: Hub) -> dict[str, float]:
    """One scrape of `/metrics`: `imhub_sync_frames_applied` per `process` label."""
    with urllib.request.urlopen(f"{hub.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "imhub_sync_frames_applied":
            for sample in family.samples:
                if sample.name == "imhub_sync_frames_applied_total":
                    out[sample.labels["process"]] = sample.value
    return out


def test_metrics_from_any_process_show_every_process_sync_counters(
    tmp_path: Path, fresh_database: str, fresh_redis_url: str
) -> None:
    # given one hub served by two processes on one port (PostgreSQL + Redis on a random logical db)
    hub = make_hub(tmp_path, database_url=fresh_database, redis_url=fresh_redis_url, processes=2)
    hub.start()
    try:
        seed = hub_seed(hub)
        account_id = seed["account_id"]

        # when a worker syncs one frame per connection (each lands on either process) until both
        # processes have applied some
        sent = 0
        scrapes: list[dict[str, float]] = []
        while sent < MAX_FRAMES:
            with worker_connect(hub, seed["token"]) as ws:
                assert register(ws)["type"] == "master:register:ack"
                sent += 1
                ws.send(
                    sync_text(
                        account_id=account_id, epoch=1, seq=sent, entities={"comments": [comment(f"k{sent}")]}
                    )
                )
                assert recv(ws)["payload"] == {"account_id": account_id, "seq": sent}
            if sent % 5 == 0:
                scrapes = [applied_by_process(hub) for _ in range(4)]
                if any(sum(1 for v in s.values() if v > 0) >= 2 for s in scrapes):
                    break
        processes_seen = {label for s in scrapes for label, v in s.items() if v > 0}
        assert len(processes_seen) >= 2, f"after {sent} frames only {processes_seen} applied any"

        # then (once the other process's snapshot is refreshed, every few seconds) each scrape through
        # the shared port shows both processes, and their sum is the number of frames sent
        wait_until(
            lambda: sum(applied_by_process(hub).values()) == sent or None,
            timeout=30,
            what=f"the processes' applied frames to sum to {sent}",
        )
        print(f"frames sent {sent}, applied by process {applied_by_process(hub)}")
        for _ in range(10):
            applied = applied_by_process(hub)
            assert len([v for v in applied.values() if v > 0]) == 2, applied
            assert sum(applied.values()) == sent, applied
    finally:
        hub.stop()

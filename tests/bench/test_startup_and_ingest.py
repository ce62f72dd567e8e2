"""The start-up, ingest and ingest service-time benchmarks run end to end on a small dataset (figures are in
docs/benchmarks.md; nothing here asserts on timings)."""

from __future__ import annotations

import pytest

from bench.ingest import ingest_run, ingest_service_time
from bench.startup import startup_run

pytestmark = [pytest.mark.e2e]


def test_startup_benchmark_loads_cold_then_from_the_snapshot_then_rereads_the_changed_account() -> None:
    results = startup_run(rows=3000, accounts=3)
    assert [r["start"] for r in results] == ["cold", "snapshot", "one account changed"]
    cold, warm, changed = (r["load"] for r in results)
    assert (cold["snapshot_accounts"], cold["database_accounts"], cold["database_rows"]) == (0, 3, 3000)
    assert (warm["snapshot_accounts"], warm["snapshot_rows"], warm["database_accounts"]) == (3, 3000, 0)
    assert (changed["snapshot_accounts"], changed["database_accounts"], changed["database_rows"]) == (
        2,
        1,
        1001,
    )
    assert all(r["serves_after_s"] > 0 and r["rss_mb"] > 0 for r in results)


def test_ingest_service_time_measures_the_frame_path() -> None:
    svc = ingest_service_time(database_url=None, frames=4, batch=20)
    assert svc["vendor"] == "sqlite" and svc["items"] == 40
    assert svc["hub_cpu_us"] > 0 and svc["db_cpu_us"] == 0


def test_ingest_benchmark_pushes_through_a_real_hub_and_counts_every_item() -> None:
    result = ingest_run(items=200, batch=50, window=2)
    assert (result.items, result.frames, result.database) == (200, 4, "sqlite")
    assert result.items_per_second > 0

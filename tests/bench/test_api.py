"""The IM API benchmark end to end at a tiny size: its own hub entry (`bench.asgi`: the production hub
plus the synthetic dataset) and the ceiling under a real server, wrk against both, and the in-process
service time. Nothing here asserts on timings; a production hub has none of it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from django.urls import Resolver404, resolve

from bench.api import bench_im_run, bench_service_run
from datasync.runtime import runtime
from tests.support.processes import ROOT, base_env

ROUTES = (("unified", "/api/im/unified-messages/?account_id=1"), ("account", "/api/im/accounts/1/"))


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_api_benchmark_serves_the_synthetic_store_and_measures_every_route_against_the_ceiling() -> None:
    results = bench_im_run(
        setups=["lane:granian"],
        connections=[2],
        history_setups=[],
        history_connections=[],
        accounts=2,
        items=400,
        boost=1,
        duration=1,
        routes=ROUTES,
        log=lambda line: None,
    )
    assert [(r.setup, r.route) for r in results] == [("lane:granian", "unified"), ("lane:granian", "account")]
    assert all(r.requests > 0 and r.errors == 0 and r.ratio is not None and r.ratio > 0 for r in results)


@pytest.mark.e2e
def test_service_time_benchmark_measures_the_lane_and_django_per_route() -> None:
    rows = bench_service_run(accounts=2, items=400, routes=ROUTES)
    assert [row["route"] for row in rows] == ["unified", "account"]
    assert all(row["lane_us"] > 0 and row["drf_us"] > 0 for row in rows)


def test_the_command_lists_the_benchmarks_when_none_is_named() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert (
        "usage: python -m bench {api,assignment,crawler,freshness,inbox,ingest,soak,startup}" in result.stderr
    )


def test_a_production_hub_has_no_benchmark_route_or_loader() -> None:
    with pytest.raises(Resolver404):
        resolve("/api/im/ping/")
    assert not [fn for fn in runtime.wiring.loaders if fn.__module__.startswith("bench")]

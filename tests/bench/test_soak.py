"""`python -m bench soak` end to end in a short run: every piece real (hub, simulator in live mode, a
worker with Chromium, QR login, wrk, an agent on /ws/im/); the figures must be sane and errors zero.

No timing asserts: only that the run measured something (items, lag samples, requests, memory) and that
nothing failed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_short_soak_runs_end_to_end_with_sane_figures_and_no_errors(tmp_path: Path) -> None:
    # given a 20-second soak with 2 accounts and 1 worker, live items fast enough to see several
    summary = tmp_path / "soak.json"
    args = [
        sys.executable, "-m", "bench", "soak", "--duration", "20", "--accounts", "2", "--workers", "1",
        "--live-rate", "20", "--interval", "5", "--memory-interval", "5", "--work-dir", str(tmp_path / "soak"), "--json", str(summary),
    ]  # fmt: skip
    # when it runs
    result = subprocess.run(
        args, cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    # then it exits 0 and its figures show data flowing, lag measured and no error of any kind
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    figures = json.loads(summary.read_text())
    assert figures["live_items_created"] > 0
    assert figures["items_applied"] >= figures["live_items_created"]
    assert figures["lag_samples"] == figures["live_items_created"]
    assert figures["errors"] and set(figures["errors"].values()) == {0}
    assert figures["wrk"]["requests"] > 0
    lasting = ["hub", "soak-worker-1 (Python, driver, Chromium without renderers)", "simulator"]
    for snapshot in (figures["memory_start"], figures["memory_end"]):
        assert set(snapshot) == {*lasting, "soak-worker-1 page renderers"}
        # the lasting rows are alive and measured; PSS (shared pages split) is at most the RSS sum
        assert all(0 < snapshot[name]["pss"] <= snapshot[name]["rss"] for name in lasting)
        # the worker's lasting part is several processes: Python, the driver, Chromium's browser and more
        assert snapshot[lasting[1]]["processes"] >= 3
    # and memory was sampled in the window too (start, every 5 s, end), each row's figures in order
    assert figures["memory_samples"] >= 4
    window = figures["memory_window"]
    assert set(window) == set(figures["memory_start"])
    assert all(
        w["min"] <= min(w["first"], w["last"]) <= max(w["first"], w["last"]) <= w["max"]
        for w in window.values()
    )
    assert "| process | min | first | last | max |" in result.stdout
    assert "| errors: sync frames rejected | 0 |" in result.stdout

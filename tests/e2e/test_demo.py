"""The README's main command in bounded mode: hub + simulator + worker with Chromium, data must flow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_bounded_demo_logs_in_every_account_and_data_flows(tmp_path: Path) -> None:
    # given the demo on free ports with small simulated accounts
    args = [
        sys.executable,
        "-m",
        "imhub.demo",
        "--duration",
        "240",
        "--size",
        "small",
        "--interval",
        "10",
        "--accounts",
        "2",
        "--port",
        str(free_port()),
        "--sim-port",
        str(free_port()),
        "--var-dir",
        str(tmp_path / "demo"),
        "--refresh",
        "10",
    ]
    # when it runs to its deadline
    result = subprocess.run(
        args, cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    output = result.stdout + result.stderr
    # then it logged in both accounts by QR, saw every kind arrive and a live DM delivered, and exited 0
    assert result.returncode == 0, output[-4000:]
    assert output.count("logged in by QR scan") == 2
    assert "OK: every account logged in, every kind of item reached the hub, live DM delivered" in output
    assert "stopped worker, hub, simulator" in output

"""The worker process logs through settings.LOGGING, so its secret redaction holds (issue 25, #8)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from imhub.processes import child_env, worker_command


def test_a_secret_in_a_worker_log_line_is_redacted(tmp_path: Path) -> None:
    # given a worker whose hub address carries a secret-looking value (it lands in a log line when the
    # hub cannot be reached)
    secret = "SECRETVALUE42"
    args = worker_command(worker_id="w-log", hub_url=f"ws://127.0.0.1:9/token={secret}", data_dir=tmp_path)
    env = child_env(IMHUB_WORKER_TOKEN="t" * 40, LOG_LEVEL="INFO", IMHUB_LISTEN_PAGES="0")
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ""
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
            if "unreachable" in line:
                break
    finally:
        process.kill()
        process.wait(timeout=10)
    # when it logs that the hub is unreachable, then the line is there with the value masked
    assert "unreachable" in output, output
    assert "token=***" in output
    assert secret not in output

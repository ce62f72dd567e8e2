"""End-to-end smoke test: daphne serves the hub as a real process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.processes import http_json, running_hub

pytestmark = pytest.mark.e2e


def test_hub_serves_healthz_and_admin_login(tmp_path: Path) -> None:
    # given a migrated hub under daphne on a free port
    with running_hub(tmp_path) as hub:
        # when we ask for its health and the admin login page
        status, health = http_json("GET", f"{hub.url}/healthz")
        login_status, login_page = http_json("GET", f"{hub.url}/admin/login/")

    # then both answer
    assert status == 200
    # and what the hub wrote is private to its user: the var dir 0700, the database and snapshot 0600
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "hub.sqlite3").stat().st_mode) == 0o600
    snapshot = tmp_path / "var" / "datastore.snapshot"
    if snapshot.exists():
        assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert health["status"] == "ok"
    assert health["database"]["ok"] is True
    assert health["database"]["vendor"] == "sqlite"
    assert health["channel_layer"] == {
        "ok": True,
        "backend": "InMemoryChannelLayer",
        "ms": health["channel_layer"]["ms"],
    }
    assert login_status == 200
    assert 'name="username"' in login_page
    assert 'name="password"' in login_page


def test_healthz_reports_each_part_and_readyz_says_whether_reads_can_be_served(tmp_path: Path) -> None:
    # given a hub whose disk is below its free-space floor (the floor is set above any real disk)
    with running_hub(tmp_path, IMHUB_MIN_FREE_MB=str(2**40)) as hub:
        status, health = http_json("GET", f"{hub.url}/healthz")
        ready_status, ready = http_json("GET", f"{hub.url}/readyz")
    # then /healthz is 503 naming the disk, with the store loaded and the rest fine
    assert status == 503
    assert health["disk"]["ok"] is False and health["disk"]["min_free_mb"] == 2**40
    assert health["store"]["state"] == "loaded" and health["database"]["ok"] is True
    # and /readyz is 200: a full disk does not stop reads
    assert (ready_status, ready) == (200, {"ready": True, "reasons": []})

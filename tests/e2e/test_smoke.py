"""End-to-end smoke test: daphne serves the hub as a real process."""

from __future__ import annotations

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

"""End to end on a real hub: login throttling and lockout on the admin login form, API tokens and the agent
socket, shared through the database (issue 25 #3)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.processes import running_hub

pytestmark = pytest.mark.e2e


def _admin_login(client: httpx.Client, base: str, password: str) -> httpx.Response:
    page = client.get(f"{base}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    return client.post(
        f"{base}/admin/login/",
        data={
            "username": "boss",
            "password": password,
            "csrfmiddlewaretoken": token.group(1),
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
    )


def test_failed_logins_lock_the_source_out_with_429_and_retry_after(tmp_path: Path) -> None:
    with running_hub(
        tmp_path,
        IMHUB_LOGIN_FAILURES_PER_USER="3",
        IMHUB_LOGIN_FAILURES_PER_ADDRESS="6",
        IMHUB_LOGIN_LOCKOUT_SECONDS="600",
    ) as hub:
        hub.shell(
            "from django.contrib.auth.models import User; "
            "User.objects.create_superuser('boss', 'b@example.com', 'right-password-1')"
        )
        with httpx.Client(follow_redirects=False, timeout=20) as client:
            # when three wrong passwords are tried on the admin login
            for _ in range(3):
                assert _admin_login(client, hub.url, "wrong").status_code == 200  # the form again
            # then even the right one is refused with 429 and Retry-After, without being checked
            locked = _admin_login(client, hub.url, "right-password-1")
            assert locked.status_code == 429
            assert 0 < int(locked.headers["Retry-After"]) <= 600
        # and each failure was logged with its source address
        assert "failed login via form for user 'boss' from 127.0.0.1" in hub.process.log_tail(400)  # type: ignore[union-attr]

        # when tokens are guessed over the API from the same address (3 more failures make 6)
        for n in range(3):
            guess = httpx.get(
                f"{hub.url}/api/im/accounts/", headers={"Authorization": f"Token wrong{n}"}, timeout=20
            )
            assert guess.status_code in (401, 403)
        # then the API answers 429 with Retry-After, and the agent socket is closed with 4429
        locked_api = httpx.get(
            f"{hub.url}/api/im/accounts/", headers={"Authorization": "Token another"}, timeout=20
        )
        assert locked_api.status_code == 429 and int(locked_api.headers["Retry-After"]) > 0
        with (
            connect(
                f"{hub.ws_url}/ws/im/", additional_headers={"Authorization": "Token another"}, open_timeout=15
            ) as ws,
            pytest.raises(ConnectionClosed) as closed,
        ):
            ws.recv(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429

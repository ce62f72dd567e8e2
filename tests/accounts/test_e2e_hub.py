"""End to end against daphne as a real process: create_worker, a worker on a real WebSocket, the staff
management API over real HTTP, assignment, QR login, pause/resume with epochs, token revocation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from datasync.protocol import LoginStatusFrame, RegisterFrame, dump_frame
from tests.support.processes import Hub, http_json, make_hub, wait_until

pytestmark = pytest.mark.e2e

COOKIE = "cookie-secret-e2e-9931"
STATE = {
    "cookies": [{"name": "sessionid", "value": COOKIE, "domain": ".douyin.com", "path": "/"}],
    "origins": [],
}

STAFF = """
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
staff = User.objects.create_user("staff", password="pw", is_staff=True)
agent = User.objects.create_user("agent", password="pw")
print(json.dumps({"staff": Token.objects.create(user=staff).key, "agent": Token.objects.create(user=agent).key}))
"""


def _api(hub: Hub, token: str | None, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    return http_json(method, f"{hub.url}/api/manage/{path}", body=body, headers=headers)


def _worker(hub: Hub, token: str) -> ClientConnection:
    return connect(
        f"{hub.ws_url}/ws/worker/", additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
    )


def _recv(ws: Connection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=15))


def test_worker_assignment_login_pause_resume_and_revoke_through_the_real_hub(tmp_path: Path) -> None:
    # given a hub, a worker created by the command, and staff/agent API tokens
    hub = make_hub(tmp_path).start()
    try:
        worker_token = hub.manage("create_worker", "w1", "--capacity", "2").strip()
        tokens = json.loads(hub.shell(STAFF).strip().splitlines()[-1])
        staff = tokens["staff"]

        # when anonymous and non-staff callers use the management API, then 401 and 403
        assert _api(hub, None, "GET", "accounts/")[0] == 401
        assert _api(hub, tokens["agent"], "GET", "accounts/")[0] == 403

        # when staff create an account with no worker online, then it waits unassigned
        status, created = _api(hub, staff, "POST", "accounts/", {"nickname": "Creator", "platform": "douyin"})
        assert (status, created["worker_id"], created["epoch"]) == (201, None, 0)
        account_id = created["id"]

        with _worker(hub, worker_token) as ws:
            # when the worker registers, then its ack carries the account at epoch 1
            ws.send(dump_frame(RegisterFrame.build(worker_id="w1", capabilities=["douyin"], max_accounts=5)))
            ack = _recv(ws)
            assert ack["type"] == "master:register:ack"
            assert [(a["account"]["id"], a["epoch"]) for a in ack["payload"]["assignments"]] == [
                (account_id, 1)
            ]
            status, workers = _api(hub, staff, "GET", "workers/")
            assert [(w["worker_id"], w["status"], w["load"]) for w in workers] == [("w1", "online", 1)]

            # when staff start a QR login, then the worker is told over its socket
            status, session = _api(hub, staff, "POST", f"accounts/{account_id}/login/")
            assert (status, session["status"]) == (201, "pending")
            start = _recv(ws)
            assert (start["type"], start["payload"]) == (
                "master:login:start",
                {"session_id": session["id"], "account_id": account_id},
            )

            # when the worker reports the QR code, then staff read it with the session
            ws.send(
                dump_frame(
                    LoginStatusFrame.build(
                        session_id=session["id"],
                        account_id=account_id,
                        status="qrcode_ready",
                        qr_image="data:image/png;base64,UVI=",
                    )
                )
            )
            shown = wait_until(
                lambda: (
                    (s := _api(hub, staff, "GET", f"login-sessions/{session['id']}/")[1])["status"]
                    == "qrcode_ready"
                    and s
                ),
                timeout=15,
                what="qrcode_ready",
            )
            assert shown["qr_image"] == "data:image/png;base64,UVI="

            # when the login succeeds with a storage state, then the account is logged in
            ws.send(
                dump_frame(
                    LoginStatusFrame.build(
                        session_id=session["id"],
                        account_id=account_id,
                        status="success",
                        storage_state=STATE,
                        profile={"platform_user_id": "dy777", "nickname": "Creator A"},
                    )
                )
            )
            account = wait_until(
                lambda: (
                    (a := _api(hub, staff, "GET", f"accounts/{account_id}/")[1])["login_status"]
                    == "logged_in"
                    and a
                ),
                timeout=15,
                what="logged_in",
            )
            assert (account["platform_user_id"], account["has_storage_state"]) == ("dy777", True)

            # when staff pause it, then the worker gets a revoke for epoch 1
            assert _api(hub, staff, "POST", f"accounts/{account_id}/pause/")[0] == 200
            revoke = _recv(ws)
            assert (revoke["type"], revoke["payload"]) == (
                "master:task:revoke",
                {"account_id": account_id, "epoch": 1},
            )

            # when staff resume it, then the worker gets it at epoch 2, with the stored login
            assert _api(hub, staff, "POST", f"accounts/{account_id}/resume/")[0] == 200
            assign = _recv(ws)
            assert assign["type"] == "master:task:assign"
            assignment = assign["payload"]["assignment"]
            assert (assignment["account"]["id"], assignment["epoch"]) == (account_id, 2)
            assert assignment["account"]["storage_state"] == STATE

            # when staff revoke the worker's token (admin action service), then it cannot connect again
            hub.shell(
                "from accounts.models import Worker; from accounts import services; "
                "services.worker_token_revoke(worker=Worker.objects.get(worker_id='w1'))"
            )
        with _worker(hub, worker_token) as again, pytest.raises(ConnectionClosed) as closed:
            again.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

        # then no API answer and no hub log line carried the cookie or the worker token
        bodies = [
            json.dumps(_api(hub, staff, "GET", path)[1])
            for path in ("accounts/", "workers/", "login-sessions/")
        ]
        log = (tmp_path / f"hub-{hub.port}.log").read_text()
        for secret in (COOKIE, worker_token):
            assert all(secret not in body for body in bodies)
            assert secret not in log
    finally:
        hub.stop()

"""End to end in a real browser: the admin's QR login page updates live (polling) as a worker on a
real WebSocket reports the QR code and the login result, through daphne as a real process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from websockets.sync.client import connect

from crawler.browser_path import CHROMIUM_ARGS, chromium_executable
from datasync.protocol import LoginStatusFrame, RegisterFrame, dump_frame
from tests.support.browser import wait_for_js
from tests.support.processes import make_hub

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
SEED = """
import json
from django.contrib.auth.models import User
from accounts.models import Account
User.objects.create_superuser("root", password="pw-e2e")
print(json.dumps({"account_id": Account.objects.create(nickname="Creator", platform="douyin").id}))
"""


def test_admin_login_page_shows_the_live_qr_and_the_result(tmp_path: Path) -> None:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    # given a hub, a worker holding an account over a real WebSocket, and a superuser
    hub = make_hub(tmp_path).start()
    try:
        token = hub.manage("create_worker", "w1").strip()
        account_id = json.loads(hub.shell(SEED).strip().splitlines()[-1])["account_id"]
        with (
            connect(
                f"{hub.ws_url}/ws/worker/", additional_headers={"Authorization": f"Bearer {token}"}
            ) as ws,
            sync_playwright() as pw,
        ):
            ws.send(dump_frame(RegisterFrame.build(worker_id="w1", capabilities=["douyin"])))
            assert json.loads(ws.recv(timeout=15))["type"] == "master:register:ack"
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{hub.url}/admin/login/?next=/admin/accounts/account/{account_id}/login/")
            page.fill("#id_username", "root")
            page.fill("#id_password", "pw-e2e")
            page.click("input[type=submit]")

            # when staff press "Start QR login", then the worker is asked over its socket
            page.click("input[value='Start QR login']")
            start = json.loads(ws.recv(timeout=15))
            assert start["type"] == "master:login:start"
            session_id = start["payload"]["session_id"]
            assert page.locator("#session-badge .imhub-badge").get_attribute("data-value") == "pending"

            # when the worker reports the QR code, then the page shows it without a reload
            ws.send(
                dump_frame(
                    LoginStatusFrame.build(
                        session_id=session_id, account_id=account_id, status="qrcode_ready", qr_image=PNG
                    )
                )
            )
            wait_for_js(
                page,
                f"document.getElementById('session-qr').getAttribute('src') === {json.dumps(PNG)}",
                timeout=15000,
            )
            assert page.locator("#session-qr").is_visible()
            if os.environ.get("IMHUB_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["IMHUB_SCREENSHOTS"]) / "admin-login-qr.png"))

            # when the login succeeds, then the page ends on success and the account is logged in
            ws.send(
                dump_frame(
                    LoginStatusFrame.build(
                        session_id=session_id,
                        account_id=account_id,
                        status="success",
                        storage_state={"cookies": [], "origins": []},
                    )
                )
            )
            wait_for_js(
                page,
                "document.querySelector('#session-badge .imhub-badge').dataset.value === 'success'",
                timeout=15000,
            )
            assert page.locator("#login-status").inner_text() == "logged in"
            assert not page.locator("#session-qr").is_visible()
            if os.environ.get("IMHUB_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["IMHUB_SCREENSHOTS"]) / "admin-login-success.png"))
                page.goto(f"{hub.url}/admin/accounts/account/")
                page.screenshot(path=str(Path(os.environ["IMHUB_SCREENSHOTS"]) / "admin-accounts.png"))
                page.goto(f"{hub.url}/admin/accounts/worker/")
                page.screenshot(path=str(Path(os.environ["IMHUB_SCREENSHOTS"]) / "admin-workers.png"))
            browser.close()
    finally:
        hub.stop()

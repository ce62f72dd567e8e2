"""Staff's optional second factor, end to end in Chromium against a hub on a port: a staff user with a
confirmed TOTP device gets into the admin only with the authenticator's current code (a wrong or missing
code is refused and counted as a failed login); staff without a device log in with the password; the
admin enrols a device and shows its QR code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from crawler.browser_path import CHROMIUM_ARGS, chromium_executable
from tests.support.browser import wait_for_js
from tests.support.processes import make_hub

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

KEY = "3132333435363738393031323334353637383930"  # the RFC 6238 test key, hex
SEED = f"""
import json
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
lead = User.objects.create_superuser("lead", password="pw-lead-1")
TOTPDevice.objects.create(user=lead, name="phone", key="{KEY}", confirmed=True)
User.objects.create_user("helper", password="pw-helper-1", is_staff=True, is_superuser=True)
print(json.dumps({{"ok": True}}))
"""
FAILURES = """
from accounts.models import LoginFailure
print(LoginFailure.objects.filter(username="lead", via="admin-otp").count())
"""


def totp_now(key_hex: str, *, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits): what an authenticator app shows."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def test_rfc_6238_vector() -> None:
    # the helper computes what the RFC says for its test key at T = 59 s (8 digits: 94287082)
    assert totp_now(KEY, at=59) == "287082"


def test_staff_with_a_device_need_its_code_and_staff_without_one_do_not(tmp_path: Path) -> None:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    hub = make_hub(tmp_path).start()
    try:
        assert json.loads(hub.shell(SEED).strip().splitlines()[-1]) == {"ok": True}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

            def login(username: str, password: str, code: str | None) -> Any:
                page = browser.new_context().new_page()
                page.goto(f"{hub.url}/admin/login/?next=/admin/")
                page.fill("#id_username", username)
                page.fill("#id_password", password)
                if code is not None:
                    page.fill("#id_otp_token", code)
                page.click("input[type=submit][value='Log in']")
                page.wait_for_load_state("domcontentloaded")
                return page

            # when the staff user with a device gives the right password but no code, or a wrong one
            page = login("lead", "pw-lead-1", None)
            # then the admin stays closed
            assert urlparse(page.url).path == "/admin/login/" and page.locator(".errornote").count() >= 1
            wrong = "000000" if totp_now(KEY) != "000000" else "111111"
            page = login("lead", "pw-lead-1", wrong)
            assert urlparse(page.url).path == "/admin/login/" and page.locator("#login-form").count() == 1
            assert int(hub.shell(FAILURES).strip().splitlines()[-1]) == 2
            # when the authenticator's current code is given (after the device's back-off of a few s)
            time.sleep(5)
            page = login("lead", "pw-lead-1", totp_now(KEY))
            # then the admin opens
            assert urlparse(page.url).path == "/admin/", page.url
            assert page.locator("#login-form").count() == 0 and page.locator("#site-name").count() == 1
            # and the admin enrols devices with a QR code for the app
            page.goto(f"{hub.url}/admin/otp_totp/totpdevice/")
            assert urlparse(page.url).path == "/admin/otp_totp/totpdevice/", page.url
            assert "phone" in page.content()
            # (the device's config page draws the QR the app scans, as an image the hub serves under its CSP)
            page.click("a:has-text('qrcode')")
            page.wait_for_selector("img")
            wait_for_js(
                page,
                "Array.from(document.images).some((i) => i.complete && i.naturalWidth > 40)",
                timeout=10000,
            )
            # when staff without a device log in with the password alone, the admin opens too
            page = login("helper", "pw-helper-1", None)
            assert urlparse(page.url).path == "/admin/", page.url
            assert page.locator("#login-form").count() == 0
            browser.close()
    finally:
        hub.stop()

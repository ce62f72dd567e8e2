"""End-to-end: hub + Douyin simulator + a real worker with Chromium, as real processes.

The IM API must match the simulator's ground truth id for id after a crawl; QR login goes through the
simulator's control API; one account whose initialisation keeps failing is reported and retried while
the others on the same worker keep syncing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.crawler.support import crawler_stack, im_ids, truth_ids, wait_synced
from tests.support.processes import http_json, wait_until

pytestmark = pytest.mark.e2e


def test_qr_login_then_crawl_matches_ground_truth_id_for_id(tmp_path: Path) -> None:
    # given a worker holding two accounts: one with a simulator session, one never logged in
    with crawler_stack(tmp_path, kinds=["session", "qr"]) as stack:
        session_id, qr_id = stack.account_ids
        wait_until(
            lambda: stack.account(qr_id)["last_error"].startswith("not logged in"),
            timeout=60,
            what="the never-logged-in account to report not_logged_in",
        )

        # when an admin starts a QR login and the simulator's phone confirms the newest QR
        status, login = stack.api("POST", f"/api/manage/accounts/{qr_id}/login/")
        assert status == 201, login
        ready = wait_until(
            lambda: (
                (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["status"]
                == "qrcode_ready"
                and s
            ),
            timeout=60,
            what="the QR to be reported",
        )
        stack.sim.control("POST", "qr/confirm-newest", {"uid": stack.uids[1]})
        wait_until(
            lambda: stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1]["status"] == "success",
            timeout=60,
            what="the QR login to succeed",
        )

        # then both accounts are crawled and the IM API matches the ground truth id for id
        wait_synced(stack, session_id, stack.uids[0])
        wait_synced(stack, qr_id, stack.uids[1])
        assert ready["qr_image"].startswith("data:image/png;base64,")
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            assert im_ids(stack, account_id) == truth_ids(stack, uid)
        assert stack.account(qr_id)["login_status"] == "logged_in"
        assert stack.account(qr_id)["platform_user_id"].startswith("dy")
        assert stack.worker_token not in stack.worker.log_path.read_text()  # type: ignore[union-attr]

        # and the worker's heartbeats report its memory with Chromium's: PSS, above zero and within
        # the RSS sum (which counts the shared pages once per process), in /metrics
        def memory() -> tuple[float, float] | None:
            text = http_json("GET", f"{stack.hub.url}/metrics")[1]
            found = dict(re.findall(r'^imhub_worker_(rss|pss)_bytes\{worker="w1"\} (\S+)$', text, re.M))
            return (float(found["pss"]), float(found["rss"])) if len(found) == 2 else None

        pss, rss = wait_until(memory, timeout=30, what="a heartbeat with the worker's memory")
        assert 50e6 < pss < rss


def test_failing_account_is_reported_and_retried_while_the_others_sync(tmp_path: Path) -> None:
    # given three accounts on one worker, the middle one with a storage state Chromium refuses
    with crawler_stack(tmp_path, kinds=["session", "broken", "session"]) as stack:
        good_a, broken, good_b = stack.account_ids

        # when the worker runs
        # then the healthy accounts sync completely
        wait_synced(stack, good_a, stack.uids[0])
        wait_synced(stack, good_b, stack.uids[2])
        # and the broken one is reported with its error and retried (several attempts in the log)
        account = wait_until(
            lambda: (a := stack.account(broken))["last_error"] and a,
            timeout=60,
            what="the broken account's error to be reported",
        )
        log = stack.worker.log_path  # type: ignore[union-attr]
        wait_until(
            lambda: log.read_text().count(f"[account {broken} douyin] crawl failed") >= 3,
            timeout=60,
            what="three attempts of the broken account",
        )
        assert account["runner_status"] == "backoff"
        assert account["last_error"].startswith("Error: Browser.new_context: Error setting storage state")
        assert stack.worker.alive()  # type: ignore[union-attr]
        assert im_ids(stack, good_a) == truth_ids(stack, stack.uids[0])
        assert im_ids(stack, good_b) == truth_ids(stack, stack.uids[2])


def test_an_expiring_qr_is_refreshed_and_the_new_one_logs_in(tmp_path: Path) -> None:
    # given an account never logged in, on a platform whose QR codes live 3 seconds
    sim_args = (
        "--works",
        "2",
        "--comments",
        "10",
        "--conversations",
        "2",
        "--messages",
        "6",
        "--qr-ttl",
        "3",
    )
    with crawler_stack(tmp_path, kinds=["qr"], sim_args=sim_args) as stack:
        [account_id] = stack.account_ids
        wait_until(
            lambda: stack.account(account_id)["last_error"].startswith("not logged in"),
            timeout=60,
            what="the account to report it is not logged in",
        )

        # when a QR login starts and its first code expires unscanned
        status, login = stack.api("POST", f"/api/manage/accounts/{account_id}/login/")
        assert status == 201, login
        first = wait_until(
            lambda: (
                (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["qr_image"] and s
            ),
            timeout=60,
            what="the first QR",
        )
        refreshed = wait_until(
            lambda: (
                (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["qr_image"]
                != first["qr_image"]
                and s
            ),
            timeout=60,
            what="a refreshed QR",
        )
        stack.sim.control("POST", "qr/confirm-newest", {"uid": stack.uids[0]})

        # then the refreshed code was reported, and confirming it logs the account in
        final = wait_until(
            lambda: (
                (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["is_final"] and s
            ),
            timeout=60,
            what="the login to finish",
        )
        assert refreshed["status"] == "qrcode_refreshed"
        assert final["status"] == "success"
        wait_synced(stack, account_id, stack.uids[0])

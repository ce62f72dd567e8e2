"""End-to-end in every surface variant: one simulator, hub and worker for the module, each account
served its own variant (`POST /__sim__/surface`), so each variant runs through the real adapter in
Chromium. Known variants sync id for id; the bad record is skipped and reported; a variant no adapter
knows turns its account `surface_changed` (API, admin, /metrics, a saved sample) while the others
keep syncing; each login-QR variant logs an account in.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from tests.crawler.support import Stack, crawler_stack, im_ids, im_walk, truth_ids, wait_synced
from tests.support.processes import http_json, wait_until

pytestmark = pytest.mark.e2e

KNOWN = ["ms_times", "reply_list_v2", "works_v2", "notice", "encoded_cid"]
ACCOUNTS = [*KNOWN, "bad_record", "unknown", "qr"]
SIZES = ("--works", "3", "--comments", "24", "--conversations", "3", "--messages", "12")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    kinds = ["qr" if name == "qr" else "session" for name in ACCOUNTS]
    workdir = tmp_path_factory.mktemp("surfaces")
    with crawler_stack(workdir, kinds=kinds, sim_args=SIZES, interval=20.0, start=False) as running:
        for name, uid in zip(ACCOUNTS, running.uids, strict=True):
            surface = "default" if name == "qr" else name
            running.sim.control("POST", "surface", {"surface": surface, "uid": uid})
        running.worker_start()
        yield running


def _account(stack: Stack, name: str) -> tuple[int, str]:
    index = ACCOUNTS.index(name)
    return stack.account_ids[index], stack.uids[index]


def _broken_cids(stack: Stack, uid: str) -> set[str]:
    """The top-level comments `bad_record` serves with an unreadable time (see render.comment_item)."""
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    return {c["cid"] for c in truth["comments"] if c["level"] == 1 and int(c["cid"][-2:]) % 10 == 3}


@pytest.mark.parametrize("variant", KNOWN)
def test_each_known_variant_syncs_id_for_id(stack: Stack, variant: str) -> None:
    account_id, uid = _account(stack, variant)
    # when the worker crawls an account served in this variant
    wait_synced(stack, account_id, uid, timeout=240)
    # then the IM API matches the simulator's ground truth id for id, and the runner is healthy
    assert im_ids(stack, account_id) == truth_ids(stack, uid)
    account = stack.account(account_id)
    assert (account["runner_status"], account["last_error"]) in {
        ("idle", ""),
        ("running", ""),
        ("crawling", ""),
    }
    truth = stack.sim.control("GET", f"accounts/{uid}/truth?full=1")
    if variant == "notice":
        # and the notice API's notifications arrived too
        notices = truth["counts"]["notices"]
        wait_until(
            lambda: stack.account(account_id)["counts"].get("notifications") == notices,
            timeout=120,
            what="the notifications",
        )
    if variant == "reply_list_v2":
        # and a fan's reply to a reply keeps that third level through the hub
        second = next(c for c in truth["comments"] if c["level"] == 2)
        third = stack.sim.control("POST", "inject/comment", {"uid": uid, "reply_to": second["cid"]})
        wait_until(
            lambda: third["cid"] in im_ids(stack, account_id)["comments"],
            timeout=180,
            what="the third-level reply",
        )
        replies = im_walk(
            stack, f"/api/im/discussions/?account_id={account_id}&parent_id={third['reply_id']}"
        )
        served = next(r for r in replies if r["comment_id"] == third["cid"])
        assert (served["parent_id"], served["reply_to_reply_id"]) == (second["reply_id"], second["cid"])


def test_a_reply_finds_its_comment_when_the_page_encodes_comment_ids(stack: Stack) -> None:
    account_id, uid = _account(stack, "encoded_cid")
    wait_synced(stack, account_id, uid, timeout=240)
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    target = next(c for c in truth["comments"] if c["level"] == 2)
    # when an agent replies to a reply, whose page node carries only an encoded "@i/" id
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": {"kind": "comment", "content_id": target["aweme_id"], "comment_id": target["cid"]},
            "text": "谢谢 e2e-encoded",
            "idempotency_key": "e2e-encoded",
        },
    )
    assert status == 202, created
    result = wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=120,
        what="the reply",
    )
    # then it is sent to that comment's thread (found by its API record's text and author)
    assert result["status"] == "sent", result
    after = {c["cid"]: c for c in stack.sim.control("GET", f"accounts/{uid}/truth")["comments"]}
    assert after[result["platform_reply_id"]]["reply_id"] == target["reply_id"]
    log = stack.worker.log_path.read_text()  # type: ignore[union-attr]
    assert f"reply target comment {target['cid']} found by text_author" in log


def test_a_bad_record_is_skipped_and_reported_while_the_rest_of_its_page_syncs(stack: Stack) -> None:
    account_id, uid = _account(stack, "bad_record")
    broken = _broken_cids(stack, uid)
    expected = sorted(set(truth_ids(stack, uid)["comments"]) - broken)
    assert broken
    # when the account is crawled
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "surface_changed" and a,
        timeout=200,
        what="the skipped records to be reported",
    )
    wait_until(
        lambda: im_ids(stack, account_id)["comments"] == expected, timeout=120, what="every readable comment"
    )
    # then every other comment (replies of the broken ones too) reached the hub, and the skip is reported
    assert re.match(
        r"surface changed: \d+ record\(s\) skipped \(comment_list\.comments\); first comment_list\.comments\[\d+\]: "
        r"ValueError: create_time is not a time: '刚刚' \(sample: surface/",
        account["last_error"],
    ), account["last_error"]
    ids = im_ids(stack, account_id)
    assert (ids["contents"], ids["messages"]) == (
        truth_ids(stack, uid)["contents"],
        truth_ids(stack, uid)["messages"],
    )


def _admin_page(stack: Stack, path: str) -> str:
    stack.hub.shell(
        "from django.contrib.auth.models import User\n"
        "u = User.objects.get(username='root'); u.set_password('e2e-pass-123'); u.save()"
    )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{stack.hub.url}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "root", "password": "e2e-pass-123", "next": path}
    ).encode()
    request = urllib.request.Request(
        f"{stack.hub.url}/admin/login/", data=form, headers={"Referer": stack.hub.url}
    )
    return opener.open(request, timeout=10).read().decode()


def test_an_unknown_variant_turns_the_account_surface_changed_while_the_others_keep_syncing(
    stack: Stack,
) -> None:
    account_id, _ = _account(stack, "unknown")
    # when the works page fetches its works from a path no locator knows
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "surface_changed" and a,
        timeout=200,
        what="the unknown variant to be reported",
    )
    # then the account says which locator failed and where the sample is, in the API, admin and /metrics
    assert account["last_error"].startswith(
        "surface changed: works.work_list: the works page loaded but no known works response "
        "(work_list / item_list) came (sample: surface/"
    ), account["last_error"]
    sample_name = account["last_error"].rsplit("(sample: ", 1)[1].rstrip(")")
    sample = json.loads((stack.workdir / "worker-data" / "w1" / sample_name).read_text(encoding="utf-8"))
    assert "/janus/douyin/creator/pc/work/list_next" in sample["sample"]["fetched_paths"]
    assert "msToken" not in json.dumps(sample)
    admin = _admin_page(stack, "/admin/accounts/account/")
    assert 'data-value="surface_changed"' in admin
    metrics = http_json("GET", f"{stack.hub.url}/metrics")[1]
    assert 'imhub_accounts_by_runner_status{status="surface_changed"}' in metrics
    # and a new comment on another account still reaches the hub
    other_id, other_uid = _account(stack, "ms_times")
    comment = stack.sim.control("POST", "inject/comment", {"uid": other_uid, "text": "还在同步 e2e"})
    wait_until(
        lambda: comment["cid"] in im_ids(stack, other_id)["comments"],
        timeout=180,
        what="the other account's comment",
    )
    assert stack.account(account_id)["runner_status"] == "surface_changed"
    assert stack.worker.alive()  # type: ignore[union-attr]


@pytest.mark.parametrize("variant", ["qr_alt", "qr_aria", "qr_data_png", "qr_class"])
def test_each_login_qr_variant_logs_in(stack: Stack, variant: str) -> None:
    account_id, uid = _account(stack, "qr")
    # given the login page shows its QR only in this variant's form
    stack.sim.control("POST", "surface", {"surface": variant})
    # when an admin starts a QR login and the phone confirms it
    status, login = stack.api("POST", f"/api/manage/accounts/{account_id}/login/")
    assert status == 201, login
    ready = wait_until(
        lambda: (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["qr_image"] and s,
        timeout=90,
        what="the QR to be reported",
    )
    stack.sim.control("POST", "qr/confirm-newest", {"uid": uid})
    final = wait_until(
        lambda: (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["is_final"] and s,
        timeout=90,
        what="the login to finish",
    )
    # then the QR was found, screenshotted and the login succeeded
    assert ready["qr_image"].startswith("data:image/png;base64,")
    assert final["status"] == "success", final
    assert f"login QR found by locator variant {variant}" in stack.worker.log_path.read_text()  # type: ignore[union-attr]

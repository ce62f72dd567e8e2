"""End-to-end: risk signals cool an account down (never "expired", never "surface changed") while the
others sync, and replies are proven, never guessed. One simulator, hub and worker for the module.

Each risk account is served one risk signal from the start (`/__sim__/faults/risk`): an HTTP status
(403, 429, 461, 471), empty bodies, status 8 to a live session, or a verification page (captcha
container, the words 验证码, a verifycenter address, a captcha in an iframe). The reply accounts show:
status 8 on a reply (failed `throttled`, the account on hold, the next reply queued until the hold ends), multi-line replies delivered with their
line breaks, a reply whose proof does not come in time (`unknown`) and its retry, which finds the text
instead of posting twice, and a worker killed after pressing send that reports the reply when back.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.crawler.support import Stack, crawler_stack, im_ids, im_walk, wait_synced
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e

RISKS = {  # risk mode -> what the account's status names
    "http_403": "HTTP 403 (risk control)",
    "http_429": "HTTP 429 (risk control)",
    "http_461": "HTTP 461 (risk control)",
    "http_471": "HTTP 471 (risk control)",
    "empty": "empty body (risk control)",
    "status_8": "the session still opens the home page: risk control",
    "captcha": "captcha page shown (risk control)",
    "verify_text": "verification page shown (验证码) (risk control)",
    "verifycenter": "verification page shown (/verifycenter/captcha/v2)",
    "captcha_iframe": "a captcha in a frame",
}
API_RISKS = ("http_403", "http_429", "http_461", "http_471", "empty", "status_8")
ACCOUNTS = ["healthy", "throttle", "slow", "multiline", "restart", *RISKS]
SIZES = ("--works", "2", "--comments", "10", "--conversations", "2", "--messages", "6")
SLOW_ANSWER = 20  # seconds the platform holds a reply's answer back: more than the worker waits (15 s)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("risk")
    kinds = ["session"] * len(ACCOUNTS)
    with crawler_stack(workdir, kinds=kinds, sim_args=SIZES, interval=20.0, start=False) as running:
        for name, uid in zip(ACCOUNTS, running.uids, strict=True):
            if name in RISKS:
                running.sim.control("POST", "faults/risk", {"mode": name, "uid": uid})
        running.worker_start()
        yield running


def _account(stack: Stack, name: str) -> tuple[int, str]:
    index = ACCOUNTS.index(name)
    return stack.account_ids[index], stack.uids[index]


def _reply(stack: Stack, account_id: int, target: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    """Post a reply and wait until it is no longer pending."""
    created = _post(stack, account_id, target, text, **extra)
    return wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=150,
        what=f"reply {text!r} to finish",
    )


def _post(stack: Stack, account_id: int, target: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    """Post a reply (202); its status as the hub answered."""
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": target,
            "text": text,
            "idempotency_key": f"{text}-{extra}",
            **extra,
        },
    )
    assert status == 202, created
    return dict(created)


def _posts(stack: Stack, text: str) -> list[dict[str, Any]]:
    """What the platform logged for posts with this text (replies and DMs, taken or refused)."""
    return [e for e in stack.sim.control("GET", "log")["log"] if e.get("text") == text]


@pytest.mark.parametrize("mode", list(RISKS))
def test_each_risk_signal_cools_the_account_down_never_expired(stack: Stack, mode: str) -> None:
    account_id, _ = _account(stack, mode)
    # when the account's pages or APIs answer with this risk signal
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "cooldown" and a,
        timeout=240,
        what=f"the {mode} account to cool down",
    )
    # then it cools down naming the signal: not expired, not parked, not a surface change; behind an API
    # signal the session itself was seen logged in (a page signal stops the login check itself)
    assert account["login_status"] != "expired", account
    assert account["last_error"].startswith("risk: ") and RISKS[mode] in account["last_error"], account
    if mode in API_RISKS:
        assert account["login_status"] == "logged_in", account


def test_the_other_accounts_sync_while_those_cool_down(stack: Stack) -> None:
    account_id, uid = _account(stack, "healthy")
    wait_synced(stack, account_id, uid, timeout=240)
    comment = stack.sim.control("POST", "inject/comment", {"uid": uid, "text": "照常同步 e2e-risk"})
    wait_until(
        lambda: comment["cid"] in im_ids(stack, account_id)["comments"], timeout=180, what="the new comment"
    )
    statuses = {name: stack.account(_account(stack, name)[0]) for name in RISKS}
    assert "expired" not in {a["login_status"] for a in statuses.values()}
    assert {a["runner_status"] for a in statuses.values()} == {"cooldown"}  # none parked ("stopped")
    assert stack.worker.alive()  # type: ignore[union-attr]


def test_status_8_on_a_reply_fails_throttled_and_holds_the_account(stack: Stack) -> None:
    account_id, uid = _account(stack, "throttle")
    wait_synced(stack, account_id, uid, timeout=240)
    work = stack.sim.control("GET", f"accounts/{uid}/truth")["contents"][0]
    stack.sim.control("POST", "faults/reply-throttle", {"uid": uid})
    # when the platform answers a reply with status 8 评论失败，请稍后重试
    first = _reply(stack, account_id, {"kind": "work", "content_id": work}, "第一条 e2e-throttle")
    account = stack.account(account_id)
    # then the reply failed with the throttling code and the platform's words, and the account is on hold
    assert (first["status"], first["error_code"]) == ("failed", "throttled"), first
    assert "评论失败，请稍后重试" in first["error_message"]
    assert (account["login_status"], account["runner_status"]) == ("logged_in", "cooldown"), account
    assert account["last_error"].startswith("risk: 评论失败，请稍后重试")
    # and while it is on hold the next reply waits in the account's write queue until the hold ends
    # (the hub sees the worker's cooldown), never tried meanwhile
    second = _post(stack, account_id, {"kind": "work", "content_id": work}, "第二条 e2e-throttle")
    assert (second["status"], second["dispatched_at"], second["queue"]["position"]) == ("pending", None, 1)
    managed = stack.api("GET", f"/api/manage/accounts/{account_id}/")[1]
    hold_end = dt.datetime.fromisoformat(managed["next_run_at"])
    assert abs((dt.datetime.fromisoformat(second["queue"]["eta"]) - hold_end).total_seconds()) < 2, second
    time.sleep(5)
    assert stack.api("GET", f"/api/im/replies/{second['id']}/")[1]["dispatched_at"] is None
    assert [e["kind"] for e in _posts(stack, "第一条 e2e-throttle")] == ["comment_reply_throttled"]
    assert _posts(stack, "第二条 e2e-throttle") == []
    stack.sim.control("POST", "faults/reply-throttle", {"uid": uid, "enabled": False})


def test_multi_line_replies_are_delivered_with_their_line_breaks(stack: Stack) -> None:
    account_id, uid = _account(stack, "multiline")
    wait_synced(stack, account_id, uid, timeout=240)
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    conversation = truth["conversations"][0]["conversation_id"]
    top = next(c for c in truth["comments"] if c["level"] == 1)
    dm_text = "您好！\n订单已发出\n\n有问题随时找我 e2e-lines"
    comment_text = "谢谢支持\n第二行 e2e-lines"
    # when an agent replies in a conversation and to a comment with several lines
    dm = _reply(stack, account_id, {"kind": "message", "conversation_id": conversation}, dm_text)
    reply = _reply(
        stack,
        account_id,
        {"kind": "comment", "content_id": top["aweme_id"], "comment_id": top["cid"]},
        comment_text,
    )
    # then both are sent, each posted once with its line breaks, and the IM API keeps them
    assert (dm["status"], reply["status"]) == ("sent", "sent"), (dm, reply)
    assert [(e["kind"], e["server_id"]) for e in _posts(stack, dm_text)] == [
        ("message_send", dm["platform_reply_id"])
    ]
    assert [(e["kind"], e["cid"]) for e in _posts(stack, comment_text)] == [
        ("comment_reply", reply["platform_reply_id"])
    ]
    messages = {
        row["id"]: row["record"]
        for row in im_walk(stack, f"/api/im/unified-messages/?account_id={account_id}&types=messages")
    }
    assert messages[dm["platform_reply_id"]]["text"] == dm_text


def test_a_reply_without_proof_in_time_is_unknown_and_its_retry_does_not_post_twice(stack: Stack) -> None:
    account_id, uid = _account(stack, "slow")
    wait_synced(stack, account_id, uid, timeout=240)
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    work = truth["contents"][0]
    conversation = truth["conversations"][0]["conversation_id"]
    stack.sim.control("POST", "faults/slow-answers", {"uid": uid, "seconds": SLOW_ANSWER})
    # when the platform takes a comment and a DM but answers later than the worker waits
    comment = _reply(stack, account_id, {"kind": "work", "content_id": work}, "晚到 e2e-unknown")
    dm = _reply(
        stack, account_id, {"kind": "message", "conversation_id": conversation}, "晚到私信 e2e-unknown"
    )
    # then neither is reported failed: their outcome is unknown, with why
    assert (comment["status"], comment["error_code"]) == ("unknown", "no_answer"), comment
    assert (dm["status"], dm["error_code"]) == ("unknown", "unconfirmed"), dm
    stack.sim.control("POST", "faults/slow-answers", {"uid": uid, "seconds": 0})
    # when the agent retries one without confirming, the hub asks first (it may already be posted)
    status, asked = stack.api(
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": {"kind": "work", "content_id": work},
            "text": "晚到 e2e-unknown",
            "idempotency_key": "unconfirmed-retry e2e-unknown",
            "retry_of": comment["id"],
        },
    )
    assert (status, asked["error"], asked["retry_of"]) == (409, "confirm_required", comment["id"]), asked
    assert stack.api("GET", f"/api/im/replies/{comment['id']}/")[1]["status"] == "unknown"
    # when the agent confirms each retry
    again = _reply(
        stack,
        account_id,
        {"kind": "work", "content_id": work},
        "晚到 e2e-unknown",
        retry_of=comment["id"],
        confirm=True,
    )
    dm_again = _reply(
        stack,
        account_id,
        {"kind": "message", "conversation_id": conversation},
        "晚到私信 e2e-unknown",
        retry_of=dm["id"],
        confirm=True,
    )
    # then each retry finds the text in the thread and is sent with that proof: nothing posted twice
    [posted] = _posts(stack, "晚到 e2e-unknown")
    [dm_posted] = _posts(stack, "晚到私信 e2e-unknown")
    assert (again["status"], again["platform_reply_id"], again["attempt"]) == ("sent", posted["cid"], 2), (
        again
    )
    assert (dm_again["status"], dm_again["platform_reply_id"]) == ("sent", dm_posted["server_id"]), dm_again
    wait_until(
        lambda: posted["cid"] in im_ids(stack, account_id)["comments"], timeout=120, what="the proven comment"
    )


def test_a_worker_killed_after_pressing_send_reports_the_reply_when_back(stack: Stack) -> None:
    account_id, uid = _account(stack, "restart")
    wait_synced(stack, account_id, uid, timeout=240)
    work = stack.sim.control("GET", f"accounts/{uid}/truth")["contents"][0]
    stack.sim.control("POST", "faults/slow-answers", {"uid": uid, "seconds": 120})
    text = "重启前发出 e2e-journal"
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": {"kind": "work", "content_id": work},
            "text": text,
            "idempotency_key": text,
        },
    )
    assert status == 202, created
    # when the worker dies after the platform took the post but before the answer came
    wait_until(lambda: _posts(stack, text), timeout=150, what="the post to reach the platform")
    stack.worker.kill()  # type: ignore[union-attr]
    stack.sim.control("POST", "faults/slow-answers", {"uid": uid, "seconds": 0})
    assert stack.api("GET", f"/api/im/replies/{created['id']}/")[1]["status"] == "pending"
    stack.worker_start()
    # then the restarted worker reports it from its journal: sent, proven by the thread, posted once
    result = wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=180,
        what="the journaled reply's result",
    )
    [posted] = _posts(stack, text)
    assert (result["status"], result["platform_reply_id"]) == ("sent", posted["cid"]), result
    assert "found in its thread after a restart" in stack.worker.log_path.read_text()  # type: ignore[union-attr]

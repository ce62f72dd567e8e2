"""End-to-end push listening (crawler/listener.py) with the real hub, worker, Chromium and simulator.

One stack for the module: account `live` is served the default surface (the chat page holds the IM
store the listener hooks), account `nostore` the `no_im_store` and `no_im_socket` variants (nothing to
tap: drift alarm, polling), account `frames` only `no_im_store` (its IM socket's frames are tapped).
Crawls are 10 minutes apart, so anything that arrives within a test came by push, not by a crawl: each
test checks it against the account's `next_run_at`.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.crawler.support import Stack, crawler_stack, im_ids, im_walk, truth_ids, wait_synced
from tests.support.processes import start_worker, wait_until

pytestmark = pytest.mark.e2e

# a work with more than one page (20) of top-level comments: incremental reads stop at the first
SIZES = ("--works", "4", "--comments", "160", "--conversations", "4", "--messages", "20")
INTERVAL = 600.0  # s between crawls: nothing in these tests waits for one


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("listener")
    with crawler_stack(
        workdir, kinds=["session", "session", "session"], sim_args=SIZES, interval=INTERVAL, start=False
    ) as s:
        s.sim.control("POST", "surface", {"surface": "no_im_store,no_im_socket", "uid": s.uids[1]})
        s.sim.control("POST", "surface", {"surface": "no_im_store", "uid": s.uids[2]})
        s.worker_start()
        for account_id, uid in zip(s.account_ids, s.uids, strict=True):
            wait_synced(s, account_id, uid, timeout=240)
        yield s


def manage(stack: Stack, account_id: int) -> dict[str, Any]:
    status, data = stack.api("GET", f"/api/manage/accounts/{account_id}/")
    assert status == 200, data
    return data


def listening(stack: Stack, account_id: int) -> bool:
    return manage(stack, account_id)["listener_status"] == "listening"


def next_crawl(stack: Stack, account_id: int) -> float:
    value = manage(stack, account_id)["next_run_at"]
    assert value, "the account has no next crawl scheduled"
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def agent_socket(stack: Stack) -> ClientConnection:
    socket = connect(
        f"{stack.hub.ws_url}/ws/im/",
        additional_headers={"Authorization": f"Token {stack.api_token}"},
        open_timeout=10,
    )
    assert json.loads(socket.recv(timeout=15))["type"] == "ready"
    return socket


def wait_event(socket: Any, account_id: int, kind: str, record_id: str, *, timeout: float) -> None:
    """Read the agent socket until the new_item of `kind`/`record_id` comes (AssertionError otherwise)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            break
        if event.get("type") == "new_item" and event.get("account_id") == account_id:
            record = event["data"]["record"]
            if event["data"]["kind"] == kind and record_id in (
                record.get("message_id"),
                record.get("comment_id"),
            ):
                return
    raise AssertionError(f"no new_item for {kind} {record_id} on the agent socket within {timeout}s")


def test_a_dm_reaches_the_agent_socket_by_push_without_a_crawl(stack: Stack) -> None:
    account_id, uid = stack.account_ids[0], stack.uids[0]
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be listening")
    crawl_at = next_crawl(stack, account_id)
    with agent_socket(stack) as socket:
        # when a fan writes a DM, in a known conversation and (maybe) a new one
        dm = stack.sim.control("POST", "inject/message", {"uid": uid, "text": "在吗 push-1"})
        # then the agent's socket gets it, long before the next crawl
        wait_event(socket, account_id, "message", dm["server_id"], timeout=90)
        assert time.time() < crawl_at
    # and the IM API has it with its text, in its conversation
    messages = im_walk(
        stack, f"/api/im/messages/?account_id={account_id}&conversation_id={dm['conversation_id']}"
    )
    pushed = next(m for m in messages if m["message_id"] == dm["server_id"])
    assert (pushed["text"], pushed["direction"]) == ("在吗 push-1", "in")
    conversations = {
        c["conversation_id"] for c in im_walk(stack, f"/api/im/conversations/?account_id={account_id}")
    }
    assert dm["conversation_id"] in conversations


def test_a_comment_notice_reads_that_works_comments_at_once(stack: Stack) -> None:
    account_id, uid = stack.account_ids[0], stack.uids[0]
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be listening")
    crawl_at = next_crawl(stack, account_id)
    work = stack.sim.control("GET", f"accounts/{uid}/truth")["contents"][-1]
    with agent_socket(stack) as socket:
        # when a fan comments on a work
        comment = stack.sim.control(
            "POST", "inject/comment", {"uid": uid, "aweme_id": work, "text": "好看 push"}
        )
        # then the notice makes the worker read that work's comments now, not at the next crawl
        wait_event(socket, account_id, "comment", comment["cid"], timeout=120)
        assert time.time() < crawl_at


def comment_reads(stack: Stack, uid: str, since: float) -> list[dict[str, Any]]:
    """The comment and reply pages the simulator served to `uid`'s pages since `since`."""
    log = stack.sim.control("GET", "log")["log"]
    return [
        e
        for e in log
        if e["kind"] in ("comment_page_read", "reply_page_read") and e["uid"] == uid and e["at"] >= since
    ]


def test_a_comment_notice_reads_only_what_is_new(stack: Stack) -> None:
    account_id, uid = stack.account_ids[0], stack.uids[0]
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be listening")
    crawl_at = next_crawl(stack, account_id)
    tops: dict[str, list[str]] = {}  # work -> its top-level comments, oldest first
    for c in stack.sim.control("GET", f"accounts/{uid}/truth")["comments"]:
        if c["level"] == 1:
            tops.setdefault(c["aweme_id"], []).append(c["cid"])
    work, oldest_first = max(tops.items(), key=lambda item: len(item[1]))
    assert len(oldest_first) > 25, "the busiest work needs more than one page of comments"
    with agent_socket(stack) as socket:
        # when a fan comments on that work
        mark = time.time()
        new = stack.sim.control("POST", "inject/comment", {"uid": uid, "aweme_id": work, "text": "增量 一"})
        wait_event(socket, account_id, "comment", new["cid"], timeout=120)
        # then the notice's read fetched only the list's first page, and no reply list
        reads = comment_reads(stack, uid, mark)
        assert [(e["kind"], e.get("aweme_id"), e["cursor"]) for e in reads] == [
            ("comment_page_read", work, 0)
        ]

        # when a fan answers the work's oldest comment (pages further down)
        mark = time.time()
        reply = stack.sim.control(
            "POST", "inject/comment", {"uid": uid, "reply_to": oldest_first[0], "text": "增量 二"}
        )
        wait_event(socket, account_id, "comment", reply["cid"], timeout=120)
        # then the read went down the list to it and opened only that comment's replies
        reads = comment_reads(stack, uid, mark)
        assert {e["comment_id"] for e in reads if e["kind"] == "reply_page_read"} == {oldest_first[0]}
        assert len([e for e in reads if e["kind"] == "comment_page_read"]) > 1
        assert time.time() < crawl_at
    # and the API has both where they belong
    on_work = im_walk(stack, f"/api/im/discussions/?account_id={account_id}&content_id={work}")
    assert new["cid"] in {c["comment_id"] for c in on_work}
    thread = im_walk(stack, f"/api/im/discussions/?account_id={account_id}&parent_id={oldest_first[0]}")
    assert reply["cid"] in {c["comment_id"] for c in thread}


def test_a_listener_page_that_navigates_away_is_reinstalled(stack: Stack) -> None:
    account_id, uid = stack.account_ids[0], stack.uids[0]
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be listening")
    crawl_at = next_crawl(stack, account_id)
    log_before = stack.worker.log_tail(100000).count("listener lost") if stack.worker else 0
    # when the platform navigates the listening page away (the hook is gone with it)
    stack.sim.control("POST", "push/navigate", {"uid": uid})
    assert stack.worker is not None
    wait_until(
        lambda: (
            stack.worker is not None and stack.worker.log_tail(100000).count("listener lost") > log_before
        ),
        timeout=60,
        what="the worker to notice the lost listener",
    )
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be re-installed")
    # then a DM after it still comes by push
    with agent_socket(stack) as socket:
        dm = stack.sim.control("POST", "inject/message", {"uid": uid, "text": "还在吗 push-2"})
        wait_event(socket, account_id, "message", dm["server_id"], timeout=90)
        assert time.time() < crawl_at


def test_no_store_raises_a_drift_alarm_and_the_account_keeps_polling(stack: Stack) -> None:
    account_id, uid = stack.account_ids[1], stack.uids[1]
    # given the chat page holds no IM store: the account is polling, with the drift note and its sample
    wait_until(lambda: manage(stack, account_id)["listener_status"] == "polling", timeout=120, what="polling")
    account = manage(stack, account_id)
    assert account["runner_status"] == "surface_changed"
    assert "listener.im_store" in account["last_error"] and "sample: surface/" in account["last_error"]
    assert account["login_status"] == "logged_in"
    # and /metrics counts it by listener state
    with urllib.request.urlopen(f"{stack.hub.url}/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    assert 'imhub_accounts_by_listener_status{status="polling"} 1.0' in metrics
    assert 'imhub_accounts_by_listener_status{status="listening"} 2.0' in metrics
    # when a fan writes a DM, it comes with the next crawl (asked for here by a resync)
    dm = stack.sim.control("POST", "inject/message", {"uid": uid, "text": "轮询 poll-1"})
    status, answer = stack.api("POST", f"/api/manage/accounts/{account_id}/resync/")
    assert status == 202, answer
    wait_until(
        lambda: dm["server_id"] in im_ids(stack, account_id)["messages"], timeout=180, what="the polled DM"
    )


def test_without_the_store_the_im_sockets_frames_bring_a_dm_without_a_crawl(stack: Stack) -> None:
    account_id, uid = stack.account_ids[2], stack.uids[2]
    # given the chat page holds no IM store but opens its IM socket: the account listens to its frames,
    # with the drift note for the missing store
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the frame tap to be listening")
    account = manage(stack, account_id)
    assert account["runner_status"] == "surface_changed"
    assert "listener.im_store" in account["last_error"] and "IM socket" in account["last_error"]
    crawl_at = next_crawl(stack, account_id)
    with agent_socket(stack) as socket:
        # when a fan writes a DM, then a frame on the socket makes the worker read the chat at once
        dm = stack.sim.control("POST", "inject/message", {"uid": uid, "text": "帧 frame-1"})
        wait_event(socket, account_id, "message", dm["server_id"], timeout=90)
        assert time.time() < crawl_at
    assert im_ids(stack, account_id) == truth_ids(stack, uid)


def test_nothing_is_duplicated_across_push_and_reconciliation(stack: Stack) -> None:
    account_id, uid = stack.account_ids[0], stack.uids[0]
    wait_until(lambda: listening(stack, account_id), timeout=120, what="the listener to be listening")
    # given DMs that came by push
    with agent_socket(stack) as socket:
        dms = [
            stack.sim.control("POST", "inject/message", {"uid": uid, "text": f"重复? {n}"}) for n in range(3)
        ]
        for dm in dms:
            wait_event(socket, account_id, "message", dm["server_id"], timeout=90)
    # when a full reconciliation walk reads every conversation again (a resync asks for one now)
    status, answer = stack.api("POST", f"/api/manage/accounts/{account_id}/resync/")
    assert status == 202, answer

    def settled() -> bool:
        account = manage(stack, account_id)
        return account["runner_status"] in ("idle", "surface_changed") and im_ids(
            stack, account_id
        ) == truth_ids(stack, uid)

    wait_until(settled, timeout=240, what="the walk to finish and match the ground truth")
    # then every message is in the API exactly once
    ids = im_ids(stack, account_id)["messages"]
    assert len(ids) == len(set(ids))
    assert ids == truth_ids(stack, uid)["messages"]


def test_one_resident_page_goes_to_the_more_active_account(tmp_path_factory: pytest.TempPathFactory) -> None:
    # given a worker allowed one resident page for two accounts (crawls every 8 s)
    sizes = ("--works", "2", "--comments", "10", "--conversations", "3", "--messages", "10")
    workdir = tmp_path_factory.mktemp("listener-lru")
    with crawler_stack(workdir, kinds=["session", "session"], sim_args=sizes, interval=8.0, start=False) as s:
        s.worker = start_worker(
            s.workdir,
            hub=s.hub,
            token=s.worker_token,
            base_url=s.sim.base_url,
            extra_args=["--listen-pages", "1"],
        )
        for account_id, uid in zip(s.account_ids, s.uids, strict=True):
            wait_synced(s, account_id, uid, timeout=240)

        def states() -> dict[int, str]:
            return {a: manage(s, a)["listener_status"] for a in s.account_ids}

        wait_until(
            lambda: sorted(states().values()) == ["listening", "polling"],
            timeout=120,
            what="one account listening, the other polling",
        )
        holder = next(a for a, state in states().items() if state == "listening")
        other = next(a for a in s.account_ids if a != holder)
        uid_of = dict(zip(s.account_ids, s.uids, strict=True))
        # when the polling account gets a DM (its crawl finds it: activity) while the holder is idle
        s.sim.control("POST", "inject/message", {"uid": uid_of[other], "text": "lru 一"})
        # then it takes the page, and the idle holder polls
        wait_until(
            lambda: states() == {other: "listening", holder: "polling"},
            timeout=120,
            what="the more active account to take the resident page",
        )
        # and both keep syncing: the new holder's DM by push, the other's by its crawl
        for account_id in (other, holder):
            s.sim.control("POST", "inject/message", {"uid": uid_of[account_id], "text": "lru 二"})
        for account_id in (other, holder):
            wait_synced(s, account_id, uid_of[account_id], timeout=120)
        assert im_ids(s, holder) == truth_ids(s, uid_of[holder])
        assert im_ids(s, other) == truth_ids(s, uid_of[other])

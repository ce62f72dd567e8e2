"""End-to-end flows through hub + simulator + a real worker: replies, live items, expiry, restarts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.crawler.support import Stack, crawler_stack, im_ids, truth_ids, wait_synced
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e


def _reply(stack: Stack, account_id: int, target: dict[str, Any], text: str) -> dict[str, Any]:
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {"account_id": account_id, "target": target, "text": text, "idempotency_key": text},
    )
    assert status == 202, created
    return wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=90,
        what=f"reply {text!r} to finish",
    )


def test_replies_through_the_im_api_appear_in_the_simulator(tmp_path: Path) -> None:
    # given a synced account
    with crawler_stack(tmp_path, kinds=["session"]) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid)
        truth = stack.sim.control("GET", f"accounts/{uid}/truth")
        top = next(c for c in truth["comments"] if c["level"] == 1)
        conversation = truth["conversations"][0]["conversation_id"]

        # when an agent replies to a comment, to a work and in a conversation
        to_comment = _reply(
            stack,
            account_id,
            {"kind": "comment", "content_id": top["aweme_id"], "comment_id": top["cid"]},
            "谢谢支持 e2e-comment",
        )
        to_work = _reply(
            stack, account_id, {"kind": "work", "content_id": top["aweme_id"]}, "大家好 e2e-work"
        )
        to_chat = _reply(
            stack, account_id, {"kind": "message", "conversation_id": conversation}, "你好 e2e-message"
        )

        # then each is sent with the platform's id, and the simulator holds exactly those replies
        after = stack.sim.control("GET", f"accounts/{uid}/truth")
        log = stack.sim.control("GET", "log")["log"]
        assert [r["status"] for r in (to_comment, to_work, to_chat)] == ["sent", "sent", "sent"]
        comments = {c["cid"]: c for c in after["comments"]}
        assert comments[to_comment["platform_reply_id"]]["reply_id"] == top["cid"]
        assert comments[to_work["platform_reply_id"]]["reply_id"] == "0"
        assert to_chat["platform_reply_id"] in {m["server_id"] for m in after["messages"]}
        assert sorted(e["text"] for e in log if e["kind"] in ("comment_reply", "message_send")) == [
            "你好 e2e-message",
            "大家好 e2e-work",
            "谢谢支持 e2e-comment",
        ]


def test_a_refused_reply_is_failed_with_the_platform_reason(tmp_path: Path) -> None:
    # given a synced account whose work refuses comments
    with crawler_stack(tmp_path, kinds=["session"]) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid)
        work = stack.sim.control("GET", f"accounts/{uid}/truth")["contents"][0]
        stack.sim.control("POST", "faults/refuse-replies", {"aweme_ids": [work], "reason": "作品已设为私密"})

        # when an agent replies to it
        result = _reply(stack, account_id, {"kind": "work", "content_id": work}, "会失败的回复")

        # then the reply fails with the platform's reason and nothing was added
        assert result["status"] == "failed"
        assert result["error_code"] == "platform_2060"
        assert "作品已设为私密" in result["error_message"]


def test_injected_dm_and_comment_reach_the_inbox_websocket(tmp_path: Path) -> None:
    # given a synced account and an agent on /ws/im/
    with crawler_stack(tmp_path, kinds=["session"]) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid)
        with connect(
            f"{stack.hub.ws_url}/ws/im/",
            additional_headers={"Authorization": f"Token {stack.api_token}"},
            open_timeout=10,
        ) as inbox:
            assert json.loads(inbox.recv(timeout=15))["type"] == "ready"

            # when a fan writes a DM and a comment on the platform
            dm = stack.sim.control("POST", "inject/message", {"uid": uid, "text": "在吗 e2e-live"})
            comment = stack.sim.control("POST", "inject/comment", {"uid": uid, "text": "好看 e2e-live"})

            # then both arrive as new_item events with the platform's ids
            wanted = {("message", dm["server_id"]), ("comment", comment["cid"])}
            seen: set[tuple[str, str]] = set()
            while not wanted <= seen:
                event = json.loads(inbox.recv(timeout=60))
                if event.get("type") == "new_item" and event["account_id"] == account_id:
                    record = event["data"]["record"]
                    seen.add(
                        (event["data"]["kind"], record.get("message_id") or record.get("comment_id") or "")
                    )
        assert wanted <= seen


def test_an_expired_session_turns_the_account_expired(tmp_path: Path) -> None:
    # given a synced account
    with crawler_stack(tmp_path, kinds=["session"]) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid)

        # when the platform ends its session
        assert stack.sim.control("POST", "sessions/expire", {"uid": uid})["expired"] == 1

        # then the account is reported expired and its crawling stops
        account = wait_until(
            lambda: (a := stack.account(account_id))["login_status"] == "expired" and a,
            timeout=60,
            what="the account to turn expired",
        )
        assert account["runner_status"] == "stopped"
        assert account["last_error"].startswith("login expired")


def test_kill_and_restart_worker_and_hub_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    # given a larger account, and a worker killed while its first crawl is being synced
    sizes = ("--works", "12", "--comments", "300", "--conversations", "20", "--messages", "150")
    with crawler_stack(tmp_path, kinds=["session"], sim_args=sizes) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_until(
            lambda: stack.account(account_id)["counts"]["comments"] > 0,
            timeout=120,
            interval=0.2,
            what="the first comments to arrive",
        )
        stack.worker.kill()  # type: ignore[union-attr]
        partial = stack.account(account_id)["counts"]

        # when the worker restarts, then the hub restarts while the worker runs
        stack.worker_start()
        stack.hub.restart()
        wait_synced(stack, account_id, uid)

        # then the IM API holds every item exactly once
        ids = im_ids(stack, account_id)
        assert ids == truth_ids(stack, uid)
        assert all(len(v) == len(set(v)) for v in ids.values())
        assert partial["comments"] < 300


def _chromium_browser_pids(root: int) -> list[int]:
    """The main Chromium process(es) below `root` (not its renderers/helpers, which have --type=)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = cmdline[0].rsplit(b"/", 1)[-1] if cmdline else b""
        if name in (b"chromium", b"chrome", b"headless_shell") and not any(
            a.startswith(b"--type=") for a in cmdline
        ):
            found.append(pid)
    return found


def test_a_dead_browser_is_relaunched_and_syncing_resumes(tmp_path: Path) -> None:
    import os
    import signal

    # given a synced account
    with crawler_stack(tmp_path, kinds=["session"]) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid)
        worker_pid = stack.worker.proc.pid  # type: ignore[union-attr]
        [chromium] = _chromium_browser_pids(worker_pid)

        # when Chromium dies and a fan then comments
        os.kill(chromium, signal.SIGKILL)
        comment = stack.sim.control("POST", "inject/comment", {"uid": uid, "text": "浏览器重启后 e2e"})

        # then the worker relaunches Chromium and the new comment reaches the hub
        wait_until(
            lambda: comment["cid"] in im_ids(stack, account_id)["comments"],
            timeout=120,
            interval=1.0,
            what="the comment made after the browser died",
        )
        assert stack.worker.alive()  # type: ignore[union-attr]
        assert stack.worker.log_path.read_text().count("chromium launched (") == 2  # type: ignore[union-attr]

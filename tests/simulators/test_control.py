"""The `/__sim__/` control API: accounts and ground truth, QR tickets, sessions, injection, live mode,
faults (rate limit, risk, refused replies, failing DMs) and the log; plus the seeded generator.
"""

from __future__ import annotations

import time

import pytest

from crawler.simulators.douyin import SimConfig, Sizes, actions, create_app

from .conftest import COMMENT_BASE, SIZES, Sim, busiest_work
from .test_api_contract import check_fixture

WORKS = "/janus/douyin/creator/pc/work_list"


def test_same_seed_gives_the_same_world_and_another_seed_does_not() -> None:
    # given three simulators, two with the same seed
    a, b, c = (create_app(SimConfig(seed=s, accounts=1, sizes=SIZES)).state for s in (5, 5, 6))
    # when their first accounts are compared
    wa, wb, wc = (next(iter(s.worlds.values())) for s in (a, b, c))
    # then the same seed means the same ids and texts
    assert [w["aweme_id"] for w in wa.works] == [w["aweme_id"] for w in wb.works]
    assert [c["text"] for c in wa.comments.values()] == [c["text"] for c in wb.comments.values()]
    assert [w["aweme_id"] for w in wa.works] != [w["aweme_id"] for w in wc.works]


def test_default_sizes_are_generated_exactly() -> None:
    # given the default sizes and the crawler benchmark's sizes
    default = create_app(SimConfig(seed=1, accounts=1)).state
    bench = create_app(
        SimConfig(seed=1, accounts=1, sizes=Sizes(works=50, comments=1000, conversations=100, messages=1500))
    ).state
    # when counted
    counts = [actions.truth_counts(next(iter(s.worlds.values()))) for s in (default, bench)]
    # then they match the configuration (notices are not messages)
    assert [(c["contents"], c["comments"], c["conversations"], c["messages"]) for c in counts] == [
        (30, 600, 60, 900),
        (50, 1000, 100, 1500),
    ]
    world = next(iter(default.worlds.values()))
    assert sum(1 for w in world.works if w["aweme_type"] == 68) > 0
    assert sum(1 for c in world.comments.values() if c["is_author"]) > 0
    spans = [
        c["messages"][-1]["created_ms"] - c["messages"][0]["created_ms"] for c in world.conversations.values()
    ]
    assert max(spans) > 60 * 86400 * 1000


async def test_accounts_and_truth_list_ids_and_counts(sim: Sim) -> None:
    # given the simulator
    world = sim.world()
    # when the control API lists accounts and one account's truth
    accounts = (await sim.control("GET", "accounts"))["accounts"]
    truth = await sim.control("GET", f"accounts/{sim.uid}/truth")
    full = await sim.control("GET", f"accounts/{sim.uid}/truth?full=1")
    # then they agree with the state
    assert [a["uid"] for a in accounts] == list(sim.state.worlds)
    assert sorted(accounts[0]) == ["counts", "nickname", "sec_uid", "uid", "unique_id"]
    assert accounts[0]["counts"] == truth["counts"]
    assert truth["counts"]["comments"] == len(truth["comments"]) == 300
    assert truth["counts"]["messages"] == len(truth["messages"]) == 300
    assert truth["contents"] == [w["aweme_id"] for w in world.works]
    replies = [c for c in truth["comments"] if c["level"] == 2]
    assert replies and all(world.comments[c["reply_id"]]["level"] == 1 for c in replies)
    assert sorted(full["records"]) == ["comments", "contents", "messages"]
    assert len(full["records"]["comments"]) == 300


async def test_unknown_account_is_a_404(sim: Sim) -> None:
    # given an uid that does not exist
    # when its truth is asked for
    response = await sim.client.get("/__sim__/accounts/123/truth")
    # then the control API answers 404 with the reason
    assert (response.status_code, response.json()) == (404, {"error": "unknown account uid 123"})


async def test_qr_ticket_scan_confirm_sets_an_http_only_session_cookie_on_the_poll(sim: Sim) -> None:
    # given a login page load (which creates a ticket)
    login = await sim.client.get("/")
    tickets = (await sim.control("GET", "qr/tickets"))["tickets"]
    token = tickets[0]["id"]
    assert f'data-token="{token}"' in login.text
    # when it is scanned, polled, confirmed and polled again
    scanned = await sim.control("POST", f"qr/{token}/scan", {"uid": sim.uid})
    poll_scanned = (await sim.client.get(f"/passport/web/check_qrconnect/?token={token}")).json()
    await sim.control("POST", f"qr/{token}/confirm")
    poll = await sim.client.get(f"/passport/web/check_qrconnect/?token={token}")
    # then the states move new -> scanned -> confirmed and the last poll sets the session cookie
    assert (tickets[0]["state"], scanned["state"], poll_scanned["data"]["status"]) == ("new", "scanned", "2")
    assert poll.json()["data"] == {"status": "3", "redirect_url": "/creator-micro/home"}
    cookie = poll.headers["set-cookie"]
    assert cookie.startswith("sessionid=") and "HttpOnly" in cookie
    home = await sim.client.get("/creator-micro/home")
    assert "抖音号：" in home.text
    used = (await sim.client.get(f"/passport/web/check_qrconnect/?token={token}")).json()
    assert used["data"]["status"] == "5"


async def test_confirm_newest_pending_ticket_for_an_uid(sim: Sim) -> None:
    # given two login page loads
    await sim.client.get("/")
    await sim.client.get("/")
    newest = (await sim.control("GET", "qr/tickets"))["tickets"][0]
    # when the newest pending ticket is confirmed for the second account
    second = list(sim.state.worlds)[1]
    confirmed = await sim.control("POST", "qr/confirm-newest", {"uid": second})
    # then it is that ticket, confirmed for that uid
    assert (confirmed["id"], confirmed["state"], confirmed["uid"]) == (newest["id"], "confirmed", second)


async def test_qr_expires_after_the_ttl_and_a_new_ticket_replaces_it() -> None:
    # given a simulator whose QR lives 0 seconds
    from .conftest import make_sim

    short = make_sim(qr_ttl=0.0)
    async with short.client:
        await short.client.get("/")
        token = (await short.control("GET", "qr/tickets"))["tickets"][0]["id"]
        time.sleep(0.01)
        # when the page polls and then asks for a new QR
        poll = (await short.client.get(f"/passport/web/check_qrconnect/?token={token}")).json()
        fresh = (await short.client.get("/passport/web/get_qrcode/")).json()
        scan = await short.client.post(f"/__sim__/qr/{token}/scan", json={"uid": short.uid})
    # then the old ticket is expired (status 5, scan refused) and the new one has its own image
    assert poll["data"]["status"] == "5"
    assert fresh["data"]["token"] != token and fresh["data"]["qrcode"].startswith(
        "data:image/svg+xml;base64,"
    )
    assert (scan.status_code, scan.json()) == (409, {"error": "ticket is expired, not new"})


async def test_session_endpoint_returns_a_cookie_usable_by_a_browser(sim: Sim) -> None:
    # given nothing
    # when a session is created directly
    cookie = (await sim.control("POST", "sessions", {"uid": sim.uid}))["cookie"]
    # then it is the session cookie for the host the request reached
    assert (cookie["name"], cookie["domain"], cookie["path"], cookie["httpOnly"]) == (
        "sessionid",
        "127.0.0.1",
        "/",
        True,
    )
    assert sim.state.session_account(cookie["value"]) is sim.world()


async def test_injected_comment_appears_in_truth_and_in_the_api(sim: Sim) -> None:
    # given a session and a work
    await sim.login()
    aweme_id = busiest_work(sim.world())
    # when a comment and a reply are injected
    top = await sim.control(
        "POST", "inject/comment", {"uid": sim.uid, "aweme_id": aweme_id, "text": "新评论来啦🎉"}
    )
    reply = await sim.control("POST", "inject/comment", {"uid": sim.uid, "reply_to": top["cid"]})
    # then the truth lists them and the APIs serve them (the top-level one first)
    truth = await sim.control("GET", f"accounts/{sim.uid}/truth")
    assert {(c["cid"], c["reply_id"]) for c in truth["comments"]} >= {
        (top["cid"], "0"),
        (reply["cid"], top["cid"]),
    }
    listed = await sim.get_json(f"{COMMENT_BASE}/select/", f"aweme_id={aweme_id}&cursor=0&count=1")
    assert [(c["cid"], c["text"], c["reply_comment_total"]) for c in listed["comments"]] == [
        (top["cid"], "新评论来啦🎉", 1)
    ]
    replies = await sim.get_json(
        f"{COMMENT_BASE}/reply/", f"comment_id={top['cid']}&item_id={aweme_id}&cursor=0&count=10"
    )
    assert [c["cid"] for c in replies["comments"]] == [reply["cid"]]


async def test_injected_message_appears_in_truth_and_in_the_chat_api(sim: Sim) -> None:
    # given a session and a conversation
    await sim.login()
    cid = next(iter(sim.world().conversations))
    # when a DM is injected into it
    injected = await sim.control(
        "POST", "inject/message", {"uid": sim.uid, "conversation_id": cid, "text": "老板在吗"}
    )
    # then the truth and the newest message of that conversation are it
    truth = await sim.control("GET", f"accounts/{sim.uid}/truth")
    assert {
        "server_id": injected["server_id"],
        "conversation_id": cid,
        "is_from_me": False,
        "kind": "text",
        "media": None,
    } in truth["messages"]
    newest = await sim.get_json("/sim-im/v1/message/list", f"conversation_id={cid}&cursor=0&count=1")
    assert [(m["serverId"], m["content"]["text"], m["isFromMe"]) for m in newest["messages"]] == [
        (injected["server_id"], "老板在吗", False)
    ]


async def test_live_mode_adds_comments_and_messages_at_the_rate(sim: Sim) -> None:
    # given live mode at 60 items per minute per account
    before = actions.truth_counts(sim.world())
    await sim.control("POST", "live", {"rate": 60})
    # when 4 seconds of simulated time pass
    made = actions.live_tick(sim.state, now=sim.state.live_since + 4.0)
    after = actions.truth_counts(sim.world())
    # then each account got 2 comments and 2 messages
    assert made == 4 * len(sim.state.worlds)
    assert (after["comments"] - before["comments"], after["messages"] - before["messages"]) == (2, 2)
    assert (await sim.control("POST", "live", {"rate": 0})) == {"rate": 0.0}


async def test_rate_limit_counts_per_session_and_reset_clears_it(sim: Sim) -> None:
    # given a limit of 2 requests per minute
    await sim.login()
    await sim.control("POST", "faults/rate-limit", {"per_minute": 2})
    # when 3 calls are made, then faults are reset
    codes = [(await sim.get_json(WORKS, "status=0&count=1&max_cursor=0"))["status_code"] for _ in range(3)]
    await sim.control("POST", "faults/reset")
    after = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    # then the third is rate limited and the reset lifts it
    assert codes == [0, 0, 2155]
    assert after["status_code"] == 0


async def test_risk_captcha_shows_the_captcha_page_and_empty_mode_empties_bodies(sim: Sim) -> None:
    # given a session
    await sim.login()
    # when captcha mode is on for the account, then empty mode for everyone
    await sim.control("POST", "faults/risk", {"mode": "captcha", "uid": sim.uid})
    page = await sim.client.get("/creator-micro/interactive/comment")
    api = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    await sim.control("POST", "faults/risk", {"mode": "off", "uid": sim.uid})
    await sim.control("POST", "faults/risk", {"mode": "empty"})
    empty = await sim.get(WORKS, "status=0&count=1&max_cursor=0")
    page_in_empty_mode = await sim.client.get("/creator-micro/home")
    # then the page is the captcha page, the API the risk code, and the empty mode answers nothing
    assert 'id="captcha_container"' in page.text and "验证码" in page.text
    assert api["status_code"] == 2154
    assert (empty.status_code, empty.content) == (200, b"")
    assert "抖音号：" in page_in_empty_mode.text


@pytest.mark.parametrize("status", [403, 429, 461, 471])
async def test_http_risk_modes_answer_that_status_with_an_empty_body(sim: Sim, status: int) -> None:
    await sim.login()
    await sim.control("POST", "faults/risk", {"mode": f"http_{status}", "uid": sim.uid})
    answer = await sim.get(WORKS, "status=0&count=1&max_cursor=0")
    page = await sim.client.get("/creator-micro/home")
    assert (answer.status_code, answer.content) == (status, b"")
    assert "抖音号：" in page.text  # the pages are unchanged


async def test_status_8_mode_answers_the_logout_code_to_a_live_session(sim: Sim) -> None:
    token = await sim.login()
    await sim.control("POST", "faults/risk", {"mode": "status_8", "uid": sim.uid})
    answer = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    page = await sim.client.get("/creator-micro/home")
    # the API says 8 while the session still opens the pages: only login signals tell a logout
    assert answer == {"status_code": 8, "status_msg": "用户未登录"}
    assert page.status_code == 200 and "抖音号：" in page.text
    assert sim.state.session_account(token) is not None


async def test_verification_page_modes_each_show_one_signal(sim: Sim) -> None:
    await sim.login()
    await sim.control("POST", "faults/risk", {"mode": "verify_text", "uid": sim.uid})
    text_only = await sim.client.get("/creator-micro/home")
    await sim.control("POST", "faults/risk", {"mode": "verifycenter", "uid": sim.uid})
    moved = await sim.client.get("/creator-micro/home")
    center = await sim.client.get(moved.headers["location"])
    await sim.control("POST", "faults/risk", {"mode": "captcha_iframe", "uid": sim.uid})
    framed = await sim.client.get("/creator-micro/content/manage")
    frame = await sim.client.get("/captcha/frame")
    api = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    # verify_text: only the words
    assert "验证码" in text_only.text and "captcha" not in text_only.text
    # verifycenter: only the address
    assert moved.status_code == 302 and moved.headers["location"].startswith("/verifycenter/")
    assert center.status_code == 200 and "验证码" not in center.text
    # captcha_iframe: only the frame
    assert '<iframe class="risk-frame-Wq1e2" src="/captcha/frame' in framed.text
    assert "验证码" not in framed.text and "captcha_container" not in framed.text
    assert frame.status_code == 200
    assert api["status_code"] == 2154


async def test_reply_throttle_answers_status_8_and_stores_nothing(sim: Sim) -> None:
    await sim.login()
    world = sim.world()
    aweme_id = busiest_work(world)
    before = len(world.comments)
    await sim.control("POST", "faults/reply-throttle", {"uid": sim.uid})
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/", {"item_id": aweme_id, "reply_id": "0", "text": "你好"}
    )
    reads = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    log = (await sim.control("GET", "log"))["log"]
    assert answer == {"status_code": 8, "status_msg": "评论失败，请稍后重试"}
    assert len(world.comments) == before and reads["status_code"] == 0
    assert [(e["kind"], e["text"]) for e in log] == [("comment_reply_throttled", "你好")]
    check_fixture("comment_reply__throttled", answer)


async def test_slow_answers_store_the_reply_at_once_and_answer_late(sim: Sim) -> None:
    await sim.login()
    world = sim.world()
    aweme_id = busiest_work(world)
    await sim.control("POST", "faults/slow-answers", {"uid": sim.uid, "seconds": 0.2})
    started = time.monotonic()
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/", {"item_id": aweme_id, "reply_id": "0", "text": "晚到的回答"}
    )
    waited = time.monotonic() - started
    off = await sim.control("POST", "faults/slow-answers", {"uid": sim.uid, "seconds": 0})
    assert (
        answer["status_code"] == 0
        and world.comments[answer["comment_info"]["comment_id"]]["text"] == "晚到的回答"
    )
    assert waited >= 0.2  # the fault's own contract (a floor, not a speed measurement)
    assert off == {"slow_answers": {}}


async def test_dm_fail_makes_sends_fail_and_logs_them(sim: Sim) -> None:
    # given failing DMs for the account
    await sim.login()
    cid = next(iter(sim.world().conversations))
    count = len(sim.world().conversations[cid]["messages"])
    await sim.control("POST", "faults/dm-fail", {"uid": sim.uid})
    # when a message is sent
    answer = await sim.post_json("/sim-im/v1/message/send", {"conversation_id": cid, "text": "你好"})
    # then it fails with the documented code and nothing is stored
    assert answer == {"status_code": 7179, "status_msg": "发送失败，对方已设置隐私权限"}
    assert len(sim.world().conversations[cid]["messages"]) == count
    log = (await sim.control("GET", "log"))["log"]
    assert [(e["kind"], e["text"]) for e in log] == [("message_send_failed", "你好")]


async def test_bad_control_input_is_a_400(sim: Sim) -> None:
    # given nothing
    # when control endpoints get bad bodies
    risk = await sim.client.post("/__sim__/faults/risk", json={"mode": "storm"})
    live = await sim.client.post("/__sim__/live", json={})
    missing = await sim.client.post("/__sim__/nope", json={})
    # then they answer 400/404 with a reason
    assert (risk.status_code, risk.json()) == (
        400,
        {
            "error": "mode must be one of captcha, verify_text, verifycenter, captcha_iframe, empty, "
            "status_8, http_403, http_429, http_461, http_471 or off"
        },
    )
    assert live.status_code == 400
    assert missing.status_code == 404

"""End to end in real Chromium: the agent inbox at /inbox/ against the real hub, worker and simulator.

One hub + simulator + worker (two accounts, two teams) for the module; each test logs agents in
through the login page and asserts on what the page shows against the simulator's ground truth and
the IM API. Browsers reach only loopback addresses (the simulated avatars and covers point at the
platform's CDN, so those requests are aborted and the page shows its placeholders).

Set ``IMHUB_SCREENSHOT_DIR`` to save screenshots of the main views there (docs/screenshots/), and
``IMHUB_SCREENSHOT_FONTCONFIG`` to a fontconfig file with CJK and emoji fonts for the test browser only
(the worker's browser keeps the machine's fonts).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.browser_path import chromium_executable, chromium_launch_args
from crawler.simulators.douyin import data as douyin_data
from tests.crawler.support import Stack, crawler_stack, wait_synced
from tests.support.browser import wait_for_js
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SIM_ARGS = ("--works", "4", "--comments", "40", "--conversations", "5", "--messages", "30")
INTERVAL = 3.0
PASSWORD = "pw-inbox-e2e"
AGENTS = """
import json
from accounts.models import Account
from django.contrib.auth.models import Group, User
red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
for name, team in (("alice", red), ("bob", red), ("carol", blue)):
    User.objects.create_user(name, password={password!r}).groups.add(team)
root = User.objects.get(username="root")
root.set_password({password!r})
root.save()
Account.objects.filter(pk={red_account}).update(team=red, nickname="厨房里的小林")
Account.objects.filter(pk={blue_account}).update(team=blue, nickname="旅行的阿卓")
print(json.dumps({{"ok": True}}))
"""
SCREENSHOTS = os.environ.get("IMHUB_SCREENSHOT_DIR")


@dataclass
class Inbox:
    stack: Stack
    browser: Any
    red: int  # account of team red (alice, bob)
    blue: int  # account of team blue (carol)
    red_uid: str
    blue_uid: str

    def login(self, username: str, *, width: int = 1280, height: int = 800, lang: str = "") -> Any:
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.route("**/*", _loopback_only)
        page = context.new_page()
        page.goto(f"{self.stack.hub.url}/inbox/login/{lang}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#account-list .account")
        page.wait_for_selector("#item-list .item")
        return page

    def truth(self, uid: str) -> dict[str, Any]:
        return self.stack.sim.control("GET", f"accounts/{uid}/truth?full=1")

    def api(self, path: str) -> Any:
        status, data = self.stack.api("GET", path)
        assert status == 200, data
        return data


def _loopback_only(route: Any) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:")):
        route.continue_()
    else:
        route.abort()


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)  # let avatars fall back and fonts settle
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def _badge(page: Any, account_id: int, kind: str) -> int:
    selector = f'#account-list .account[data-account-id="{account_id}"] .badge[data-kind="{kind}"]'
    return int(page.get_attribute(selector, "data-count"))


def _reply_done(page: Any) -> tuple[str, str]:
    """Wait until the thread's newest reply is sent or failed; returns (status, platform id or reason)."""
    done = page.wait_for_selector(
        "#thread .reply-status[data-status=sent], #thread .reply-status[data-status=failed]", timeout=90_000
    )
    status = done.get_attribute("data-status")
    detail = done.query_selector(".platform-id" if status == "sent" else ".reason")
    return status, detail.text_content() if detail else ""


def _keys(page: Any) -> list[str]:
    return page.eval_on_selector_all("#item-list .item", "els => els.map(e => e.dataset.key)")


def _row(page: Any, key: str) -> Any:
    return page.locator(f'#item-list .item[data-key="{key}"]')


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inbox]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    workdir = tmp_path_factory.mktemp("inbox")
    with crawler_stack(workdir, kinds=["session", "session"], sim_args=SIM_ARGS, interval=INTERVAL) as stack:
        red, blue = stack.account_ids
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            wait_synced(stack, account_id, uid)
        stack.hub.shell(AGENTS.format(password=PASSWORD, red_account=red, blue_account=blue))
        with sync_playwright() as pw:
            fonts = os.environ.get("IMHUB_SCREENSHOT_FONTCONFIG")
            browser = pw.chromium.launch(
                executable_path=executable,
                args=chromium_launch_args(),
                env={**os.environ, "FONTCONFIG_FILE": fonts} if fonts else None,
            )
            try:
                yield Inbox(stack, browser, red, blue, stack.uids[0], stack.uids[1])
            finally:
                browser.close()


def _unread_truth(inbox: Inbox, uid: str) -> dict[str, int]:
    """The simulator's ground truth: every fan comment and DM (all unread in the hub so far)."""
    truth = inbox.truth(uid)
    return {
        "comments": sum(1 for c in truth["records"]["comments"] if c.get("label_text") != "作者"),
        "messages": sum(1 for m in truth["messages"] if not m["is_from_me"]),
    }


def test_login_shows_the_teams_accounts_with_ground_truth_unread_counts(inbox: Inbox) -> None:
    # given the simulator's ground truth per account
    red_truth, blue_truth = _unread_truth(inbox, inbox.red_uid), _unread_truth(inbox, inbox.blue_uid)
    first_page = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&limit=30")["results"]

    # when alice logs in
    page = inbox.login("alice")
    _shot(page, "inbox-list")

    # then she sees her team's account only, with the ground truth's counts, and the newest rows first
    accounts = page.eval_on_selector_all("#account-list .account", "els => els.map(e => e.dataset.accountId)")
    assert accounts == [str(inbox.red)]
    assert {k: _badge(page, inbox.red, k) for k in ("comments", "messages")} == red_truth
    assert _keys(page)[:30] == [f"{r['kind']}:{r['id']}" for r in first_page]
    assert page.text_content(".topbar h1") == "imhub 客服收件箱"

    # and a superuser (before anyone reads anything) sees every account, each with its ground truth's counts
    root = inbox.login("root")
    accounts = root.eval_on_selector_all("#account-list .account", "els => els.map(e => e.dataset.accountId)")
    assert accounts == [str(inbox.red), str(inbox.blue)]
    assert {k: _badge(root, inbox.red, k) for k in ("comments", "messages")} == red_truth
    assert {k: _badge(root, inbox.blue, k) for k in ("comments", "messages")} == blue_truth
    root.context.close()

    # when she walks the list with the keyboard: j, j, k, Enter, r, Esc
    keys = _keys(page)
    active = []
    for key in ("j", "j", "k"):
        page.keyboard.press(key)
        active.append(page.get_attribute("#item-list .item.active", "data-key"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#reply-box:not([hidden])")
    page.keyboard.press("r")
    focused_reply = page.evaluate("document.activeElement.id")
    page.keyboard.press("Escape")
    # then the highlight moved down, down, up; Enter opened that row; r focused the reply box; Esc left it
    assert active == [keys[0], keys[1], keys[0]]
    assert page.get_attribute("#item-list .item.open", "data-key") == keys[0]
    assert (focused_reply, page.evaluate("document.activeElement.id")) == ("reply-text", "item-list")
    page.context.close()


def test_reply_to_a_dm_and_to_a_comment_reach_the_platform_and_show_sent(inbox: Inbox) -> None:
    # given alice's inbox and an incoming DM and a fan's top-level comment in the first page
    rows = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&limit=100")["results"]
    dm = next(r for r in rows if r["kind"] == "message" and r["record"]["direction"] == "in")
    truth = inbox.truth(inbox.red_uid)
    top_id = next(c["cid"] for c in truth["comments"] if c["level"] == 1)
    top_text = next(c["text"] for c in truth["records"]["comments"] if c["cid"] == top_id)
    page = inbox.login("alice")

    # when she opens the DM, starts a second line with Shift+Enter (nothing is sent), takes it back,
    # and sends with Enter
    _row(page, f"message:{dm['id']}").click()
    page.wait_for_selector(f'#thread [data-key="message:{dm["id"]}"]')
    page.click("#reply-text")
    page.keyboard.type("你好，已收到 🙏")
    page.keyboard.press("Shift+Enter")
    assert page.input_value("#reply-text") == "你好，已收到 🙏\n"
    assert page.locator("#thread .reply-status").count() == 0
    page.keyboard.press("Backspace")
    page.keyboard.type(" inbox-e2e-dm")
    page.keyboard.press("Enter")
    status, dm_platform_id = _reply_done(page)
    assert status == "sent", dm_platform_id
    _shot(page, "inbox-dm")

    # then the simulator holds that message with exactly that text, and the thread shows it sent
    truth = inbox.truth(inbox.red_uid)
    log = inbox.stack.sim.control("GET", "log")["log"]
    assert dm_platform_id in {m["server_id"] for m in truth["messages"] if m["is_from_me"]}
    assert [e["text"] for e in log if e["kind"] == "message_send"] == ["你好，已收到 🙏 inbox-e2e-dm"]
    page.wait_for_selector(f'#thread [data-key="message:{dm_platform_id}"] .reply-status[data-status=sent]')
    assert page.input_value("#reply-text") == ""

    # when she finds the comment by its text, opens it and replies to it
    page.fill("#search", top_text)
    wait_for_js(
        page,
        """q => { const rows = [...document.querySelectorAll('#item-list .item')];
                  return rows.length > 0 && rows.every(r => r.querySelector('.text').textContent.includes(q)); }""",
        arg=top_text,
    )
    _row(page, f"comment:{top_id}").click()
    page.wait_for_selector(f'#thread [data-key="comment:{top_id}"]')
    page.click("#reply-text")
    page.keyboard.type("谢谢支持 inbox-e2e-comment ❤️")
    page.keyboard.press("Enter")
    status, comment_platform_id = _reply_done(page)
    assert status == "sent", comment_platform_id

    # then the simulator holds it as a reply to that comment, and it appears in the thread as sent
    comments = {c["cid"]: c for c in inbox.truth(inbox.red_uid)["comments"]}
    assert comments[comment_platform_id]["reply_id"] == top_id
    page.wait_for_selector(
        f'#thread [data-key="comment:{comment_platform_id}"] .reply-status[data-status=sent]', timeout=30_000
    )
    _shot(page, "inbox-comment")
    page.context.close()


def test_a_refused_reply_shows_the_platforms_reason_and_retries_only_on_request(inbox: Inbox) -> None:
    # given alice on the works tab, and a work the platform refuses replies on
    work = inbox.api(f"/api/im/contents/?account_id={inbox.red}&ordering=-comments")["results"][0]
    page = inbox.login("alice")
    page.click("#tab-works")
    page.click(f'#work-list .work[data-content-id="{work["content_id"]}"]')
    page.wait_for_selector("#reply-box:not([hidden])")
    _shot(page, "inbox-works")
    inbox.stack.sim.control(
        "POST", "faults/refuse-replies", {"aweme_ids": [work["content_id"]], "reason": "作品已设为私密"}
    )

    # when she comments on it
    page.click("#reply-text")
    page.keyboard.type("会被拒绝的评论 inbox-e2e-refused")
    page.keyboard.press("Enter")

    # then the reply shows failed with the platform's reason and a retry button
    failed = page.wait_for_selector("#thread .reply-status[data-status=failed]", timeout=90_000)
    assert "作品已设为私密" in failed.text_content()
    assert page.locator("#thread .reply-status[data-status=failed] button.retry").count() == 1

    # when the platform accepts replies again, nothing is re-sent on its own over two crawl intervals
    inbox.stack.sim.control("POST", "faults/reset", {})
    page.wait_for_timeout(int(2 * INTERVAL * 1000))
    sends = [
        e for e in inbox.stack.sim.control("GET", "log")["log"] if "inbox-e2e-refused" in e.get("text", "")
    ]
    assert [e["kind"] for e in sends] == ["comment_reply_refused"]
    assert page.locator("#thread .reply-status[data-status=failed]").count() == 1

    # when she presses retry, then it is sent as a new reply naming the failed one (so the worker looks
    # for the text in the thread before posting)
    failed_id = page.get_attribute("#thread .reply-status[data-status=failed]", "data-reply-id")
    page.click("#thread .reply-status[data-status=failed] button.retry")
    page.wait_for_selector("#thread .reply-status[data-status=sent] .platform-id", timeout=90_000)
    sent_id = page.get_attribute("#thread .reply-status[data-status=sent]", "data-reply-id")
    retried = inbox.api(f"/api/im/replies/{sent_id}/")
    assert (retried["retry_of"], retried["attempt"]) == (failed_id, 2)
    sends = [
        e for e in inbox.stack.sim.control("GET", "log")["log"] if "inbox-e2e-refused" in e.get("text", "")
    ]
    assert [e["kind"] for e in sends] == ["comment_reply_refused", "comment_reply"]
    assert page.locator("#thread .reply-status[data-status=failed]").count() == 0
    page.context.close()


def test_retrying_an_unknown_reply_asks_first_because_it_may_already_be_posted(inbox: Inbox) -> None:
    # given alice on a work whose platform answers replies later than the worker waits
    work = inbox.api(f"/api/im/contents/?account_id={inbox.red}&ordering=-comments")["results"][-1]
    page = inbox.login("alice")
    page.click("#tab-works")
    page.click(f'#work-list .work[data-content-id="{work["content_id"]}"]')
    page.wait_for_selector("#reply-box:not([hidden])")
    inbox.stack.sim.control("POST", "faults/slow-answers", {"uid": inbox.red_uid, "seconds": 20})
    text = "也许已发出 inbox-e2e-unknown"

    def posts() -> list[str]:
        return [e["kind"] for e in inbox.stack.sim.control("GET", "log")["log"] if e.get("text") == text]

    try:
        # when she comments on it and no proof comes in time
        page.click("#reply-text")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        unknown = page.wait_for_selector("#thread .reply-status[data-status=unknown]", timeout=90_000)
    finally:
        inbox.stack.sim.control("POST", "faults/slow-answers", {"uid": inbox.red_uid, "seconds": 0})
    # then the inbox says, in its language, that it may already be posted (not "failed")
    assert "可能已发出" in unknown.text_content(), unknown.text_content()
    unknown_id = page.get_attribute("#thread .reply-status[data-status=unknown]", "data-reply-id")

    # when she presses retry and declines the question, nothing is sent again
    asked: list[str] = []

    def decline(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("#thread .reply-status[data-status=unknown] button.retry")
    wait_until(lambda: asked, timeout=10, what="the confirm dialog")
    assert "可能已在抖音发出" in asked[0], asked
    assert page.locator("#thread .reply-status[data-status=unknown]").count() == 1
    assert inbox.api(f"/api/im/replies/{unknown_id}/")["status"] == "unknown"

    # when she retries and confirms, the retry names the unknown try and the text is on the platform once
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#thread .reply-status[data-status=unknown] button.retry")
    page.wait_for_selector("#thread .reply-status[data-status=sent]", timeout=90_000)
    sent_id = page.get_attribute("#thread .reply-status[data-status=sent]", "data-reply-id")
    retried = inbox.api(f"/api/im/replies/{sent_id}/")
    assert (retried["retry_of"], retried["attempt"]) == (unknown_id, 2), retried
    assert posts() == ["comment_reply"], posts()
    page.context.close()


def test_an_injected_dm_appears_without_a_reload(inbox: Inbox) -> None:
    # given alice's inbox open, marked so a reload would show
    page = inbox.login("alice")
    page.evaluate("window.__sameDocument = true")
    before = _badge(page, inbox.red, "messages")

    # when a fan writes a DM on the platform
    injected = inbox.stack.sim.control(
        "POST", "inject/message", {"uid": inbox.red_uid, "text": "在吗？想问下链接 inbox-e2e-live 😊"}
    )

    # then it appears at the top of the list, unread, and the DM badge counts it, in the same document
    row = _row(page, f"message:{injected['server_id']}")
    row.wait_for(timeout=30_000)
    assert row.locator(".text").text_content() == "在吗？想问下链接 inbox-e2e-live 😊"
    assert "unread" in (row.get_attribute("class") or "")
    assert _keys(page)[0] == f"message:{injected['server_id']}"
    wait_for_js(
        page,
        f"""() => Number(document.querySelector('[data-account-id="{inbox.red}"] .badge[data-kind=messages]')
            .dataset.count) === {before + 1}""",
    )
    assert page.evaluate("window.__sameDocument") is True
    page.context.close()


def test_an_image_comment_shows_its_thumbnail_and_emoji_codes_are_drawn(inbox: Inbox) -> None:
    # given alice's inbox open
    page = inbox.login("alice")
    # when a fan posts an image comment and a comment with Douyin emoji codes
    image = inbox.stack.sim.control("POST", "inject/comment", {"uid": inbox.red_uid, "media": "image"})
    emoji = inbox.stack.sim.control(
        "POST", "inject/comment", {"uid": inbox.red_uid, "text": "[赞][赞] 好看[未知码] inbox-e2e-emoji"}
    )
    # then opening the image comment shows the platform's image as a thumbnail (http(s) only)
    row = _row(page, f"comment:{image['cid']}")
    row.wait_for(timeout=60_000)
    row.click()
    thumb = page.wait_for_selector(
        f'#thread [data-key="comment:{image["cid"]}"] img.attachment.image', timeout=30_000
    )
    rows = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&types=comments&limit=100")["results"]
    [record] = [r["record"] for r in rows if r["record"].get("comment_id") == image["cid"]]
    [part] = record["attachments"]
    assert (part["type"], part["url"]) == ("image", douyin_data.image_url(image["cid"])), part
    assert thumb.get_attribute("src") == part["thumb_url"], part
    # and the emoji codes it knows are drawn as emoji; an unknown one stays as written
    row = _row(page, f"comment:{emoji['cid']}")
    row.wait_for(timeout=60_000)
    row.click()
    text = page.wait_for_selector(
        f'#thread [data-key="comment:{emoji["cid"]}"] .comment-text', timeout=30_000
    )
    assert text.text_content() == "👍👍 好看[未知码] inbox-e2e-emoji"
    # and a fan's voice message (no text) is labelled in the list and drawn as a chip with its length
    voice = inbox.stack.sim.control("POST", "inject/message", {"uid": inbox.red_uid, "media": "voice"})
    row = _row(page, f"message:{voice['server_id']}")
    row.wait_for(timeout=60_000)
    assert row.locator(".text").text_content() == "[语音消息]"
    row.click()
    chip = page.wait_for_selector(
        f'#thread [data-key="message:{voice["server_id"]}"] .attachment.chip.voice', timeout=30_000
    )
    truth = next(m for m in inbox.truth(inbox.red_uid)["messages"] if m["server_id"] == voice["server_id"])
    assert chip.text_content() == f"🎙 语音消息 {truth['media']['duration_ms'] // 1000}″"
    page.context.close()


def test_two_agents_of_a_team_share_read_state_live_and_another_team_sees_nothing(inbox: Inbox) -> None:
    # given alice and bob on the same account, and an unread fan comment
    unread = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&types=comments&unread=true")
    key = f"comment:{unread['results'][0]['id']}"
    alice, bob = inbox.login("alice"), inbox.login("bob")
    before = _badge(bob, inbox.red, "comments")
    assert "unread" in (_row(bob, key).get_attribute("class") or "")

    # when alice opens the comment
    _row(alice, key).click()

    # then bob's badge drops by one and his row loses its unread mark, without a reload
    wait_for_js(
        bob,
        f"""() => Number(document.querySelector('[data-account-id="{inbox.red}"] .badge[data-kind=comments]')
            .dataset.count) === {before - 1}""",
    )
    wait_for_js(bob, f"""() => !document.querySelector('[data-key="{key}"]').classList.contains('unread')""")
    assert inbox.api(f"/api/im/unified-messages/stats/?account_id={inbox.red}")["comments"] == before - 1

    # when alice shows unread DMs only and opens the first: its whole conversation becomes read
    alice.click(".segmented label:has(input[value=messages])")
    alice.check("#unread-only")
    alice.wait_for_selector("#item-list .item.message.unread")
    first = alice.get_attribute("#item-list .item.message.unread", "data-id")
    message = next(
        r
        for r in inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&types=messages&unread=true")[
            "results"
        ]
        if r["id"] == first
    )
    conversation_id = message["record"]["conversation_id"]
    conversation = inbox.api(f"/api/im/conversations/{conversation_id}/?account_id={inbox.red}")
    dm_before = _badge(bob, inbox.red, "messages")
    alice.click(f'#item-list .item[data-id="{first}"]')

    # then bob's DM badge drops by that conversation's unread count
    wait_for_js(
        bob,
        f"""() => Number(document.querySelector('[data-account-id="{inbox.red}"] .badge[data-kind=messages]')
            .dataset.count) === {dm_before - conversation["unread"]}""",
    )

    # when alice marks all comments of a work read with the button
    work = next(
        w
        for w in inbox.api(f"/api/im/contents/?account_id={inbox.red}&limit=100")["results"]
        if w["unread_comments"]
    )
    comments_before = _badge(bob, inbox.red, "comments")
    alice.click("#tab-works")
    alice.click(f'#work-list .work[data-content-id="{work["content_id"]}"]')
    alice.click("#mark-work")

    # then bob's comment badge drops by the work's unread comments
    wait_for_js(
        bob,
        f"""() => Number(document.querySelector('[data-account-id="{inbox.red}"] .badge[data-kind=comments]')
            .dataset.count) === {comments_before - work["unread_comments"]}""",
    )

    # and carol (team blue) sees only her account, and the API refuses her the other one
    carol = inbox.login("carol")
    accounts = carol.eval_on_selector_all(
        "#account-list .account", "els => els.map(e => e.dataset.accountId)"
    )
    hidden = carol.request.get(f"{inbox.stack.hub.url}/api/im/unified-messages/?account_id={inbox.red}")
    assert accounts == [str(inbox.blue)]
    assert hidden.status == 404
    for page in (alice, bob, carol):
        page.context.close()


def test_the_page_reconnects_after_a_hub_restart_and_catches_up_without_duplicates(inbox: Inbox) -> None:
    # given alice's inbox open on a DM conversation
    page = inbox.login("alice")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector("#live-state[data-state=live]")
    page.click("#item-list .item.message")
    opened = page.get_attribute("#item-list .item.open", "data-id")
    messages = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&types=messages&limit=100")[
        "results"
    ]
    conversation_id = next(r["record"]["conversation_id"] for r in messages if r["id"] == opened)
    page.wait_for_selector("#thread .bubble")

    # when the hub dies, a fan writes in that conversation meanwhile, and the hub comes back
    inbox.stack.hub.kill()
    page.wait_for_selector("#banner[data-state=reconnecting]", state="visible")
    _shot(page, "inbox-reconnecting")
    injected = inbox.stack.sim.control(
        "POST",
        "inject/message",
        {
            "uid": inbox.red_uid,
            "conversation_id": conversation_id,
            "text": "服务器重启期间的私信 inbox-e2e-restart",
        },
    )
    inbox.stack.hub.start()

    # then the banner goes, the DM shows up once, no row is duplicated, and the page was never reloaded
    page.wait_for_selector("#banner", state="hidden", timeout=60_000)
    _row(page, f"message:{injected['server_id']}").wait_for(timeout=60_000)
    page.wait_for_selector(f'#thread [data-key="message:{injected["server_id"]}"]', timeout=60_000)
    keys = _keys(page)
    thread = page.eval_on_selector_all("#thread [data-key]", "els => els.map(e => e.dataset.key)")
    assert len(keys) == len(set(keys))
    assert keys.count(f"message:{injected['server_id']}") == 1
    assert len(thread) == len(set(thread))
    assert page.evaluate("window.__sameDocument") is True
    wait_until(
        lambda: (
            inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&limit=1")["results"][0]["id"]
            == injected["server_id"]
        ),
        timeout=30,
        what="the API to serve the DM",
    )
    page.context.close()


def test_narrow_window_and_english(inbox: Inbox) -> None:
    # given alice on a phone-sized window, in English
    page = inbox.login("alice", width=400, height=800, lang="?lang=en")
    _shot(page, "inbox-narrow-en")
    first = _keys(page)[0]

    # when she opens the first item
    _row(page, first).click()

    # then the detail takes the window, in English, and Back returns to the list
    page.wait_for_selector("#detail #reply-box:not([hidden])")
    assert page.text_content("#back").strip() == "← Back"
    assert (
        page.get_attribute("#reply-text", "placeholder")
        == "Write a reply… Enter sends, Shift+Enter starts a new line"
    )
    _shot(page, "inbox-narrow-detail-en")
    page.click("#back")
    assert page.locator("#item-list").is_visible()
    assert json.loads(page.text_content("#inbox-config"))["language"] == "en"
    page.context.close()


def test_a_reply_waiting_in_the_write_queue_shows_its_place_and_send_time_then_goes(inbox: Inbox) -> None:
    # given quiet hours around now on alice's account (Asia/Shanghai)
    local = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    start, end = local - dt.timedelta(minutes=5), local + dt.timedelta(minutes=40)
    manage = f"/api/manage/accounts/{inbox.red}/"
    status, body = inbox.stack.api("PATCH", manage, {"quiet_hours": f"{start:%H:%M}-{end:%H:%M}"})
    assert status == 200, body
    try:
        rows = inbox.api(f"/api/im/unified-messages/?account_id={inbox.red}&types=messages&limit=100")[
            "results"
        ]
        dm = next(r for r in rows if r["record"]["direction"] == "in")
        page = inbox.login("alice")
        _row(page, f"message:{dm['id']}").click()
        page.wait_for_selector(f'#thread [data-key="message:{dm["id"]}"]')
        # when she replies
        page.fill("#reply-text", "稍后回复 inbox-e2e-queue")
        page.keyboard.press("Enter")
        # then the bubble says it waits first in the queue until the quiet hours end, and nothing is posted
        queued = page.wait_for_selector("#thread .reply-status[data-status=pending] .queued", timeout=30_000)
        text = queued.text_content() or ""
        assert text.startswith("排队第 1 位：预计 ") and f"{end:%H:%M}:00 (Asia/Shanghai)" in text, text
        log = inbox.stack.sim.control("GET", "log")["log"]
        assert "稍后回复 inbox-e2e-queue" not in {e.get("text") for e in log}
        # when she sends a second one and withdraws it while it waits (second in line)
        page.fill("#reply-text", "撤回这条 inbox-e2e-queue")
        page.keyboard.press("Enter")
        second = page.locator("#thread .bubble.local", has_text="撤回这条 inbox-e2e-queue")
        second.locator(".queued").wait_for(timeout=30_000)
        assert (second.locator(".queued").text_content() or "").startswith("排队第 2 位")
        second.locator("button.withdraw").click()
        # then it says withdrawn (with Retry to send it after all), and the first stays first in line
        second.locator(".reply-status[data-status=failed]").wait_for(timeout=30_000)
        assert "发送前已撤回" in (second.locator(".reason").text_content() or "")
        assert second.locator("button.retry").count() == 1
        # when the quiet hours are lifted, the first goes and the bubble says sent
        status, body = inbox.stack.api("PATCH", manage, {"quiet_hours": ""})
        assert status == 200, body
        first = page.locator("#thread .bubble.local, #thread [data-key]", has_text="稍后回复 inbox-e2e-queue")
        first.locator(".reply-status[data-status=sent]").first.wait_for(timeout=90_000)
        # and the withdrawn one was never posted
        texts = {e.get("text") for e in inbox.stack.sim.control("GET", "log")["log"]}
        assert "稍后回复 inbox-e2e-queue" in texts and "撤回这条 inbox-e2e-queue" not in texts
        page.context.close()
    finally:
        inbox.stack.api("PATCH", manage, {"quiet_hours": ""})

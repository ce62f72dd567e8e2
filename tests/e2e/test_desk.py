"""End to end in real Chromium: the support desk at /desk/ against the real hub, worker and simulator.

One hub + simulator + listening worker (two accounts, two teams) for the module. Two agents of team
red (alice, bob) and one of team blue (carol) work the queue in their own browsers; every step is
checked against the simulator's ground truth (what was posted, to whom) and the desk API. The
browser's Notification API is replaced by a recorder in the test's pages (an init script), so the
test sees which desktop alerts the page raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crawler.browser_path import chromium_executable, chromium_launch_args
from tests.crawler.support import Stack, crawler_stack, wait_synced
from tests.support.browser import wait_for_js
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SIM_ARGS = ("--works", "3", "--comments", "20", "--conversations", "4", "--messages", "12")
PASSWORD = "pw-desk-e2e"
AGENTS = """
import json
from accounts.models import Account
from django.contrib.auth.models import Group, User
from datasync.desk.models import CannedReply
red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
users = {{}}
for name, team in (("alice", red), ("bob", red), ("carol", blue)):
    users[name] = User.objects.create_user(name, password={password!r})
    users[name].groups.add(team)
Account.objects.filter(pk={red_account}).update(team=red, nickname="厨房里的小林")
Account.objects.filter(pk={blue_account}).update(team=blue, nickname="旅行的阿卓")
CannedReply.objects.create(team=red, shortcut="thanks", title="Thanks", text="谢谢 {{name}}，已收到 desk-e2e")
print(json.dumps({{name: user.pk for name, user in users.items()}}))
"""
RECORD_NOTIFICATIONS = """
window.__alerts = [];
class RecordedNotification { constructor(title, options) { window.__alerts.push(title); } }
RecordedNotification.permission = "granted";
RecordedNotification.requestPermission = async () => "granted";
window.Notification = RecordedNotification;
"""


@dataclass
class Desk:
    stack: Stack
    browser: Any
    red: int
    blue: int
    red_uid: str
    users: dict[str, int]

    def login(self, username: str, *, lang: str = "en") -> Any:
        """A logged-in desk page; English unless ``lang`` is empty (the default, Simplified Chinese)."""
        context = self.browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        context.route("**/*", _loopback_only)
        context.add_init_script(RECORD_NOTIFICATIONS)
        page = context.new_page()
        page.goto(f"{self.stack.hub.url}/inbox/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox/**")
        page.goto(f"{self.stack.hub.url}/desk/" + (f"?lang={lang}" if lang else ""))
        page.wait_for_selector("#live-state[data-state=live]")
        return page

    def threads(self, **params: Any) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in {"limit": 100, **params}.items())
        status, data = self.stack.api("GET", f"/api/desk/threads/?{query}")
        assert status == 200, data
        return list(data["results"])

    def thread(self, ident: str) -> dict[str, Any]:
        status, data = self.stack.api("GET", f"/api/desk/threads/{ident}/")
        assert status == 200, data
        return dict(data)


def _loopback_only(route: Any) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    workdir = tmp_path_factory.mktemp("desk")
    with crawler_stack(workdir, kinds=["session", "session"], sim_args=SIM_ARGS, interval=3.0) as stack:
        red, blue = stack.account_ids
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            wait_synced(stack, account_id, uid)
        out = stack.hub.shell(AGENTS.format(password=PASSWORD, red_account=red, blue_account=blue))
        users = json.loads(out.strip().splitlines()[-1])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=chromium_launch_args())
            try:
                yield Desk(stack, browser, red, blue, stack.uids[0], users)
            finally:
                browser.close()


def _row(page: Any, ident: str) -> Any:
    return page.locator(f'#thread-list .thread-row[data-id="{ident}"]')


def _wait(pages: list[Any], predicate: Any, *, timeout: float, what: str) -> Any:
    """``wait_until`` that keeps the pages' Playwright connection serviced: the test routes every
    request of the pages through Python (``_loopback_only``), so a page's fetch only goes out while
    Playwright is called; a plain sleep would hold the very request being waited for."""

    def pumped() -> Any:
        for page in pages:
            page.wait_for_timeout(50)
        return predicate()

    return wait_until(pumped, timeout=timeout, interval=0.1, what=what)


def _alerts(page: Any) -> list[str]:
    return list(page.evaluate("window.__alerts"))


def test_bulk_resolve_clears_the_backlog_of_the_team_only(desk: Desk) -> None:
    # given the first sync's backlog: every fan thread of both accounts is open
    red_open = desk.threads(status="open", account_id=desk.red)
    blue_open = desk.threads(status="open", account_id=desk.blue)
    assert red_open and blue_open
    page = desk.login("alice")
    page.click('[data-view="all"]')
    page.wait_for_selector("#thread-list .thread-row")
    # alice sees her team's account's threads only
    shown = page.eval_on_selector_all("#thread-list .thread-row", "els => els.map(e => e.dataset.id)")
    assert shown and all(ident.startswith(f"{desk.red}:") for ident in shown)
    # when she selects every thread matching the view and resolves them
    page.click("#select-matching")
    page.click('[data-bulk="resolve"]')
    wait_for_js(page, "() => !document.querySelector('#thread-list .thread-row')")
    # then team red's backlog is resolved and team blue's is untouched
    assert desk.threads(status="open", account_id=desk.red) == []
    assert {t["id"] for t in desk.threads(status="resolved", account_id=desk.red)} == {
        t["id"] for t in red_open
    }
    assert [t["id"] for t in desk.threads(status="open", account_id=desk.blue)] == [
        t["id"] for t in blue_open
    ]

    # when she saves the resolved comments view for her team, and adds a canned reply
    page.select_option("#f-status", "resolved")
    page.select_option("#f-kind", "comment")
    answers = iter(["resolved comments", True])  # the prompt's name, then "share with team red?"

    def answer(dialog: Any) -> None:
        value = next(answers)
        dialog.accept(value) if isinstance(value, str) else dialog.accept()

    page.on("dialog", answer)
    page.click("#save-filter")
    page.wait_for_selector("#saved-filters li:has-text('resolved comments (red)')")
    page.click("#canned-admin summary")
    page.fill("#canned-shortcut", "bye")
    page.fill("#canned-text", "再见 {name}")
    page.click("#canned-form button[type=submit]")
    page.wait_for_selector('#canned-list li[data-shortcut="bye"]')
    # then bob (team red) finds both on his desk, and the saved view shows the resolved comment threads
    bob = desk.login("bob")
    bob.wait_for_selector('#canned-list li[data-shortcut="bye"]', state="attached")
    bob.click("#saved-filters li:has-text('resolved comments') button")
    wait_for_js(
        bob,
        "n => document.querySelectorAll('#thread-list .thread-row[data-status=resolved]').length === n",
        arg=min(50, sum(1 for t in red_open if t["kind"] == "comment")),
    )
    assert bob.input_value("#f-kind") == "comment"
    # and carol (team blue) sees neither
    carol = desk.login("carol")
    assert carol.locator("#saved-filters li").count() == 0
    assert carol.locator('#canned-list li[data-shortcut="bye"]').count() == 0
    for other in (page, bob, carol):
        other.context.close()


def test_two_agents_share_a_thread_live_and_the_other_team_sees_none_of_it(desk: Desk) -> None:
    alice, bob, carol = desk.login("alice"), desk.login("bob"), desk.login("carol", lang="")
    assert carol.text_content(".topbar h1") == "imhub 客服工作台"  # the desk speaks Chinese by default
    for page in (alice, bob):
        page.click('[data-view="unassigned"]')

    # when a fan writes a DM on the platform
    injected = desk.stack.sim.control(
        "POST", "inject/message", {"uid": desk.red_uid, "text": "在吗 desk-e2e-1"}
    )
    wait_until(
        lambda: any(t["last_text"] == "在吗 desk-e2e-1" for t in desk.threads()),
        timeout=60,
        what="the DM thread",
    )
    thread = next(t for t in desk.threads() if t["last_text"] == "在吗 desk-e2e-1")
    ident = thread["id"]
    # then it is one open, unassigned thread in both red agents' queues, live, with a desktop alert
    for page in (alice, bob):
        _row(page, ident).wait_for(timeout=30_000)
        assert _row(page, ident).get_attribute("data-status") == "open"
    wait_for_js(alice, "() => window.__alerts.some(a => a.includes('New thread'))", timeout=10_000)
    assert thread["assignee_id"] is None and thread["status"] == "open"
    assert alice.title().startswith("(")

    # when alice opens it and assigns it to herself
    _row(alice, ident).click()
    alice.wait_for_selector("#thread-head #assign-me")
    alice.click("#assign-me")
    # then it leaves the unassigned queue in bob's browser, live, and is alice's in the API
    _row(bob, ident).wait_for(state="detached", timeout=15_000)
    _wait([alice, bob], lambda: desk.thread(ident)["assignee"] == "alice", timeout=10, what="the assignment")

    # when bob opens the thread from "all" and starts typing
    bob.click('[data-view="all"]')
    _row(bob, ident).click()
    bob.wait_for_selector("#desk-reply:not([hidden])")
    bob.click("#desk-reply-text")
    bob.keyboard.type("/tha")
    # then alice sees him viewing, then typing; bob sees the canned reply under its shortcut
    alice.wait_for_selector("#presence .typing:has-text('bob')", timeout=15_000)
    bob.wait_for_selector('#canned-menu li[data-shortcut="thanks"]')

    # when bob picks the canned reply ({name} becomes the customer's nickname) and sends it
    bob.click('#canned-menu li[data-shortcut="thanks"] button')
    nickname = thread["customer"]["nickname"]
    assert bob.input_value("#desk-reply-text") == f"谢谢 {nickname}，已收到 desk-e2e"
    bob.keyboard.press("Enter")
    # then the platform received exactly that text in that conversation
    expected = f"谢谢 {nickname}，已收到 desk-e2e"

    def reply_done() -> list[dict[str, Any]] | None:
        replies = desk.thread(ident)["replies"]
        return replies if replies and replies[-1]["status"] != "pending" else None

    replies = _wait([alice, bob], reply_done, timeout=90, what="bob's reply to be done")
    assert [(r["text"], r["status"], r["sent_by"]) for r in replies] == [(expected, "sent", "bob")], replies
    log = desk.stack.sim.control("GET", "log")["log"]
    sent = [e for e in log if e["kind"] == "message_send" and e["text"] == expected]
    assert [e["conversation_id"] for e in sent] == [injected["conversation_id"]]
    truth = desk.stack.sim.control("GET", f"accounts/{desk.red_uid}/truth?full=1")
    assert sent[0]["server_id"] in {m["server_id"] for m in truth["messages"] if m["is_from_me"]}

    # when alice, who opened the thread before bob answered, sends her own reply
    alice.fill("#desk-reply-text", "您好 desk-e2e-alice")
    with alice.expect_event("dialog", timeout=15_000) as asked:
        alice.keyboard.press("Enter")
    # then she is asked first, naming bob; declining sends nothing
    assert "bob" in asked.value.message
    asked.value.dismiss()
    alice.wait_for_timeout(500)
    log = [e["text"] for e in desk.stack.sim.control("GET", "log")["log"] if e["kind"] == "message_send"]
    assert "您好 desk-e2e-alice" not in log

    # and once the platform's record of bob's reply is back, the thread is pending and shows who sent it
    _wait(
        [alice, bob],
        lambda: desk.thread(ident)["status"] == "pending",
        timeout=90,
        what="pending after the reply",
    )
    detail = desk.thread(ident)
    assert [(r["text"], r["sent_by"], r["status"]) for r in detail["replies"]] == [(expected, "bob", "sent")]
    alice.wait_for_selector("#thread-status:has-text('Pending')", timeout=30_000)
    alice.wait_for_selector("#thread-items .sent-by:has-text('bob')", timeout=30_000)

    # when the customer writes again, the thread is open again (still alice's)
    desk.stack.sim.control(
        "POST",
        "inject/message",
        {
            "uid": desk.red_uid,
            "conversation_id": injected["conversation_id"],
            "text": "还有一个问题 desk-e2e-2",
        },
    )
    _wait(
        [alice], lambda: desk.thread(ident)["status"] == "open", timeout=60, what="reopened by the customer"
    )
    assert desk.thread(ident)["assignee"] == "alice"
    alice.wait_for_selector("#thread-status:has-text('Open')", timeout=30_000)

    # when alice resolves it, it is resolved for everyone
    alice.click("#resolve")
    _wait([alice], lambda: desk.thread(ident)["status"] == "resolved", timeout=15, what="resolved")

    # and team blue's agent saw none of it: not in her queue, no alert, 404 on the thread
    assert _row(carol, ident).count() == 0
    assert _alerts(carol) == []
    status = carol.evaluate(f"fetch('/api/desk/threads/{ident}/').then(r => r.status)")
    assert status == 404
    for page in (alice, bob, carol):
        page.context.close()


def test_new_threads_are_auto_assigned_round_robin_to_available_agents(desk: Desk) -> None:
    # given auto-assignment on for team red's account, alice and bob on the desk, carol (blue) too
    desk.stack.hub.shell(
        f"from datasync.desk.models import AutoAssign\nAutoAssign.objects.create(account_id={desk.red})"
    )
    pages = [desk.login("alice"), desk.login("bob"), desk.login("carol", lang="")]
    truth = desk.stack.sim.control("GET", f"accounts/{desk.red_uid}/truth?full=1")
    taken = {
        t["key"] for t in desk.threads(status="all", account_id=desk.red, assignee="any") if t["assignee_id"]
    }
    free = [c["conversation_id"] for c in truth["conversations"] if c["conversation_id"] not in taken][:2]
    assert len(free) == 2
    # when two customers write in two conversations nobody holds
    for n, conversation_id in enumerate(free):
        desk.stack.sim.control(
            "POST",
            "inject/message",
            # with a right-to-left override in it (a spoofing trick: "txt.exe" shown as "exe.txt")
            {
                "uid": desk.red_uid,
                "conversation_id": conversation_id,
                "text": f"请问 desk-e2e-auto-{n} \u202etxt.exe",
            },
        )

    # then each thread is given to one of the team's available agents, one each (round robin)
    def assigned() -> list[str] | None:
        rows = [
            t for t in desk.threads(status="open", account_id=desk.red) if "desk-e2e-auto" in t["last_text"]
        ]
        names = [desk.thread(t["id"])["assignee"] for t in rows]
        return names if len(names) == 2 and all(names) else None

    names = _wait(pages, assigned, timeout=60, what="the auto-assignment")
    assert sorted(names) == ["alice", "bob"]
    # and each was told by a desktop alert; carol (another team) neither got one nor was picked
    for page in pages[:2]:
        wait_for_js(page, "() => window.__alerts.some(a => a.includes('Assigned to you'))", timeout=15_000)
    assert _alerts(pages[2]) == []
    # issue 25 #6: the API keeps the text as sent; the page shows it without the bidi control
    assert all(
        "\u202e" in t["last_text"]
        for t in desk.threads(account_id=desk.red)
        if "desk-e2e-auto" in t["last_text"]
    )
    alice = pages[0]
    alice.click('[data-view="all"]')
    wait_for_js(alice, "() => document.querySelectorAll('#thread-list .thread-row .text').length > 0")
    shown = alice.eval_on_selector_all("#thread-list .thread-row .text", "els => els.map(e => e.textContent)")
    auto = [text for text in shown if "desk-e2e-auto" in text]
    assert len(auto) == 2 and all("\u202e" not in text and text.endswith("txt.exe") for text in auto), auto
    for page in pages:
        page.context.close()

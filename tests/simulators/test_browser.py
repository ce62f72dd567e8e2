"""Real Chromium against the real simulator process: QR login through the control API, then every page's
selectors and texts the adapter uses, a comment reply and a DM sent through the UI, fiber props.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Response, async_playwright, expect

from crawler.browser_path import chromium_executable, chromium_launch_args
from tests.support.processes import Simulator, running_simulator

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WORK_LIST = re.compile(r"/janus/douyin/creator/pc/work_list/?$")
COMMENT_LIST = re.compile(r"/comment/list/select/?$")
REPLY_LIST = re.compile(r"/comment/list/reply/?$")
COMMENT_REPLY = re.compile(r"/aweme/v1/creator/comment/reply/?$")
USER_DETAIL = re.compile(r"/aweme/v1/creator/im/user_detail/?$")

# Walk a node's fiber `.return` chain until memoizedProps has `key` (what the adapter does).
FIBER_PROPS = """(node, key) => {
  const k = Object.keys(node).find((name) => name.startsWith("__reactFiber$"));
  let fiber = k ? node[k] : null;
  for (let i = 0; fiber && i < 10; i++, fiber = fiber.return) {
    if (fiber.memoizedProps && key in fiber.memoizedProps) return fiber.memoizedProps;
  }
  return null;
}"""


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    if chromium_executable() is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    extra = ("--works", "20", "--comments", "300", "--conversations", "40", "--messages", "400")
    with running_simulator(tmp_path_factory.mktemp("sim"), seed=3, accounts=2, extra_args=extra) as sim:
        yield sim


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_executable(), args=chromium_launch_args())
        context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        # Avatars and covers point at douyinpic.com; answer them locally (no network here).
        await context.route(
            re.compile(r"https://[^/]*douyinpic\.com/.*"), lambda route: route.fulfill(status=404)
        )
        yield await context.new_page()
        await browser.close()


def path_of(response: Response) -> str:
    return response.url.split("?", 1)[0].split("127.0.0.1", 1)[-1].split("/", 1)[-1]


async def login(page: Page, simulator: Simulator, uid: str) -> None:
    await page.goto(f"{simulator.base_url}/")
    ticket = simulator.control("GET", "qr/tickets")["tickets"][0]["id"]
    simulator.control("POST", f"qr/{ticket}/scan", {"uid": uid})
    await expect(page.get_by_text("需在手机上进行确认")).to_be_visible()
    simulator.control("POST", f"qr/{ticket}/confirm")
    await page.wait_for_url("**/creator-micro/home")


async def test_qr_login_then_home_profile(page: Page, simulator: Simulator) -> None:
    # given the login card with its QR image
    account = simulator.control("GET", "accounts")["accounts"][0]
    await page.goto(f"{simulator.base_url}/")
    await expect(page.get_by_text("扫码登录")).to_be_visible()
    await expect(page.get_by_text("我是创作者")).to_be_visible()
    await expect(page.get_by_text("我是MCN机构")).to_be_visible()
    src = await page.get_attribute("#animate_qrcode_container img", "src")
    assert src is not None and src.startswith("data:image/svg+xml;base64,")
    # when the newest ticket is scanned and confirmed through the control API
    ticket = simulator.control("GET", "qr/tickets")["tickets"][0]["id"]
    simulator.control("POST", f"qr/{ticket}/scan", {"uid": account["uid"]})
    await expect(page.get_by_text("需在手机上进行确认")).to_be_visible()
    simulator.control("POST", "qr/confirm-newest", {"uid": account["uid"]})
    # then the page lands on the home page with the profile, and / now redirects there
    await page.wait_for_url("**/creator-micro/home")
    await expect(page.locator('[class^="unique_id-"]')).to_have_text(f"抖音号：{account['unique_id']}")
    await expect(page.locator('[class^="name-"]')).to_have_text(account["nickname"])
    assert re.fullmatch(r"[\d.]+w?", await page.locator("#guide_home_fans [class^='number-']").inner_text())
    assert re.fullmatch(
        r"[\d.]+w?", await page.locator("#guide_home_following [class^='number-']").inner_text()
    )
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["sessionid"]["httpOnly"] is True and "msToken" in cookies
    await page.goto(f"{simulator.base_url}/")
    assert page.url.endswith("/creator-micro/home")


async def test_works_page_loads_pages_on_scroll_until_no_more(page: Page, simulator: Simulator) -> None:
    # given a logged-in account
    uid = simulator.control("GET", "accounts")["accounts"][0]["uid"]
    await login(page, simulator, uid)
    bodies: list[Any] = []
    page.on("response", lambda r: bodies.append(r) if WORK_LIST.search(r.url.split("?")[0]) else None)
    # when the works page is opened and scrolled to the bottom until 没有更多
    await page.goto(f"{simulator.base_url}/creator-micro/content/manage")
    while not await page.get_by_text("没有更多", exact=True).is_visible():
        await page.mouse.wheel(0, 3000)
        await page.wait_for_timeout(150)
    # then the page made signed calls whose bodies hold every work, once
    works: list[str] = []
    for response in bodies:
        assert "a_bogus=" in response.url and "aid=2906" in response.url and "msToken=" in response.url
        works += [w["aweme_id"] for w in (await response.json())["aweme_list"]]
    truth = simulator.control("GET", f"accounts/{uid}/truth")
    assert sorted(works) == sorted(truth["contents"]) and len(works) == 20
    assert await page.locator('[class*="video-card-"]').count() == 20
    # and a fetch made from inside the page is signed by the page's own script
    in_page = await page.evaluate(
        "() => fetch('/janus/douyin/creator/pc/work_list?status=0&count=5&max_cursor=0').then((r) => r.json())"
    )
    assert (in_page["status_code"], len(in_page["aweme_list"])) == (0, 5)


async def test_comment_page_pick_work_scroll_replies_and_reply_through_the_ui(
    page: Page, simulator: Simulator
) -> None:
    # given a logged-in account and its busiest work
    uid = simulator.control("GET", "accounts")["accounts"][0]["uid"]
    truth = simulator.control("GET", f"accounts/{uid}/truth")
    tops: dict[str, list[str]] = {}
    for c in truth["comments"]:
        if c["level"] == 1:
            tops.setdefault(c["aweme_id"], []).append(c["cid"])
    busiest = max(tops, key=lambda a: len(tops[a]))
    await login(page, simulator, uid)
    seen: list[Response] = []
    page.on("response", lambda r: seen.append(r))
    await page.goto(f"{simulator.base_url}/creator-micro/interactive/comment")
    # when 选择作品 opens the modal, it is scrolled until every card is there, and the busiest is chosen
    await page.get_by_text("选择作品", exact=True).click()
    cards = page.locator('[role="dialog"] [class*="container-"]')
    await expect(cards.first).to_be_visible()
    modal_list = page.locator('[role="dialog"] [class*="work-list-"]')
    while await cards.count() < 20:
        await modal_list.hover()
        await page.mouse.wheel(0, 2000)
        await page.wait_for_timeout(150)
    ids = [await cards.nth(i).evaluate(FIBER_PROPS, "awemeId") for i in range(20)]
    index = [p["awemeId"] for p in ids].index(busiest)
    title = await cards.nth(index).locator('[class*="title-"]').inner_text()
    assert title and "评论" in await cards.nth(index).inner_text()
    await cards.nth(index).click()
    # and the comment panel is scrolled until 没有更多评论
    panel = page.locator('[role="tabpanel"]')
    items = panel.locator(':scope > [class*="comment-item-"]')
    await expect(items.first).to_be_visible()
    while not await page.get_by_text("没有更多评论").is_visible():
        await panel.hover()
        await page.mouse.wheel(0, 3000)
        await page.wait_for_timeout(150)
    # then every top-level comment is rendered, with fiber props naming it
    assert await items.count() == len(tops[busiest])
    props = await items.first.evaluate(FIBER_PROPS, "cid")
    assert (
        props["cid"] in tops[busiest]
        and props["text"]
        and props["user"]["nickname"]
        and props["user"]["sec_uid"]
    )
    assert any(COMMENT_LIST.search(r.url.split("?")[0]) for r in seen)

    # when a 查看N条回复 control is clicked
    more = panel.get_by_text(re.compile(r"^查看\d+条回复$")).first
    await more.click()
    await expect(panel.locator('[class*="reply-item-"]').first).to_be_visible()
    assert any(REPLY_LIST.search(r.url.split("?")[0]) for r in seen)

    # when 回复 is clicked on the first comment and a reply is typed and sent
    first = items.first
    nickname = props["user"]["nickname"]
    await first.locator('[class*="operations-"]').get_by_text("回复", exact=True).click()
    editor = first.locator('[class*="comment-input-"]')
    await expect(editor.get_by_text(f"回复 {nickname}：")).to_be_visible()
    await editor.locator('[contenteditable="true"]').fill("感谢支持，已安排🙏")
    async with page.expect_response(lambda r: bool(COMMENT_REPLY.search(r.url.split("?")[0]))) as answer:
        await editor.get_by_text("发送", exact=True).click()
    body = await (await answer.value).json()
    # then the platform accepted it with an id, the page shows it labelled 作者, the truth and log have it
    assert body["status_code"] == 0
    new_id = body["comment_info"]["comment_id"]
    mine = first.locator('[class*="comment-item-"]', has_text="感谢支持，已安排🙏")
    await expect(mine).to_be_visible()
    assert (await mine.evaluate(FIBER_PROPS, "cid"))["cid"] == new_id
    await expect(mine.locator('[class*="label-"]')).to_have_text("作者")
    truth_after = simulator.control("GET", f"accounts/{uid}/truth")
    ids = [{k: c[k] for k in ("cid", "aweme_id", "reply_id", "level")} for c in truth_after["comments"]]
    assert {"cid": new_id, "aweme_id": busiest, "reply_id": props["cid"], "level": 2} in ids
    log = simulator.control("GET", "log")["log"]
    assert any(e["kind"] == "comment_reply" and e["cid"] == new_id for e in log)

    # when the top-level editor replies to the work on a work made private
    simulator.control("POST", "faults/refuse-replies", {"aweme_ids": [busiest]})
    top_editor = page.locator('[class*="top-editor-"]')
    await expect(top_editor.get_by_text("有爱评论，说点好听的~")).to_be_visible()
    await top_editor.locator('[contenteditable="true"]').fill("大家好")
    async with page.expect_response(lambda r: bool(COMMENT_REPLY.search(r.url.split("?")[0]))) as refused:
        await top_editor.get_by_text("发送", exact=True).click()
    # then it is refused with the reason, shown in a toast
    assert (await (await refused.value).json())["status_code"] == 2060
    await expect(page.get_by_text("作品已设为私密，暂时无法评论")).to_be_visible()
    simulator.control("POST", "faults/reset")


async def test_chat_page_virtual_list_messages_and_send_through_the_ui(
    page: Page, simulator: Simulator
) -> None:
    # given a logged-in account (the second one)
    account = simulator.control("GET", "accounts")["accounts"][1]
    uid = account["uid"]
    await login(page, simulator, uid)
    responses: list[Response] = []
    page.on("response", lambda r: responses.append(r))
    # when the chat page opens
    await page.goto(f"{simulator.base_url}/creator-micro/data/following/chat")
    rows = page.locator('[role="list-item"]')
    await expect(rows.first).to_be_visible()
    await expect(page.get_by_role("tab", name="全部")).to_be_visible()
    await expect(rows.first.locator('[class*="conversation-name-"]')).not_to_have_text("")
    # then only a window of the 40 rows is in the DOM, and user_detail went through the 301
    assert 5 <= await rows.count() < 40
    redirects = [r for r in responses if USER_DETAIL.search(r.url.split("?")[0]) and r.status == 301]
    finals = [r for r in responses if USER_DETAIL.search(r.url.split("?")[0]) and r.status == 200]
    assert redirects and finals
    first_ids = {
        (await rows.nth(i).evaluate(FIBER_PROPS, "conversationId"))["conversationId"]
        for i in range(await rows.count())
    }

    # when the list is scrolled to the bottom
    listing = page.locator('[class*="conversation-list-"]')
    await listing.hover()
    await page.mouse.wheel(0, 40 * 72)
    await page.wait_for_timeout(300)
    last_ids = {
        (await rows.nth(i).evaluate(FIBER_PROPS, "conversationId"))["conversationId"]
        for i in range(await rows.count())
    }
    # then other rows are rendered
    assert last_ids - first_ids

    # when the newest conversation is opened
    await listing.hover()
    await page.mouse.wheel(0, -40 * 72)
    await expect(listing).to_have_js_property("scrollTop", 0)
    newest = await rows.first.element_handle()
    row_props = await newest.evaluate(FIBER_PROPS, "conversationId")
    await newest.click()
    messages = page.locator('[class*="box-content-"] [class*="message-item-"]')
    await expect(messages.first).to_be_visible()
    truth = simulator.control("GET", f"accounts/{uid}/truth")
    peer = next(c for c in truth["conversations"] if c["conversation_id"] == row_props["conversationId"])
    # then the header names the peer and the newest messages carry fiber props
    await expect(page.locator('[class*="box-header-name"]')).to_have_text(row_props["peer"]["nickname"])
    assert row_props["peer"]["uid"] == peer["peer_uid"]
    rendered = await messages.count()
    assert rendered == min(20, peer["messages"]) or rendered == min(21, peer["messages"] + 1)
    last = await messages.last.evaluate(FIBER_PROPS, "serverId")
    assert last["conversationId"] == row_props["conversationId"] and last["createdAt"].endswith("Z")
    assert sorted(last) == [
        "avatar",
        "content",
        "conversationId",
        "conversationShortId",
        "createdAt",
        "isFromMe",
        "nickname",
        "secReceiver",
        "secSender",
        "sender",
        "serverId",
        "type",
    ]

    # when a message is typed and sent
    await page.locator('[class*="chat-input-"] [contenteditable="true"]').fill("您好，已为您登记～")
    await page.locator('[class*="chat-input-"]').get_by_text("发送", exact=True).click()
    sent = page.locator('[class*="message-item-"]', has_text="您好，已为您登记～")
    await expect(sent).to_be_visible()
    # then it is rendered as from me with a serverId that the truth and the log know
    props = await sent.evaluate(FIBER_PROPS, "serverId")
    assert props["isFromMe"] is True and props["serverId"].isdigit()
    truth_after = simulator.control("GET", f"accounts/{uid}/truth")
    assert {
        "server_id": props["serverId"],
        "conversation_id": row_props["conversationId"],
        "is_from_me": True,
        "kind": "text",
        "media": None,
    } in truth_after["messages"]
    log = simulator.control("GET", "log")["log"]
    assert any(e["kind"] == "message_send" and e["server_id"] == props["serverId"] for e in log)


async def test_chat_panel_loads_older_messages_when_scrolled_to_the_top(
    page: Page, simulator: Simulator
) -> None:
    # given the conversation with the most messages
    uid = simulator.control("GET", "accounts")["accounts"][0]["uid"]
    truth = simulator.control("GET", f"accounts/{uid}/truth")
    biggest = max(truth["conversations"], key=lambda c: c["messages"])
    assert biggest["messages"] > 40
    await login(page, simulator, uid)
    await page.goto(f"{simulator.base_url}/creator-micro/data/following/chat")
    rows = page.locator('[role="list-item"]')
    await expect(rows.first).to_be_visible()
    # when its row is found by scrolling the virtual list and opened, then the panel is scrolled up
    listing = page.locator('[class*="conversation-list-"]')
    target = None
    for _ in range(30):
        for i in range(await rows.count()):
            props = await rows.nth(i).evaluate(FIBER_PROPS, "conversationId")
            if props["conversationId"] == biggest["conversation_id"]:
                target = rows.nth(i)
                break
        if target is not None:
            break
        await listing.hover()
        await page.mouse.wheel(0, 300)
        await page.wait_for_timeout(100)
    assert target is not None
    await target.click()
    panel = page.locator('[class*="box-content-"]')
    messages = panel.locator('[class*="message-item-"]')
    await expect(messages.first).to_be_visible()
    initial = await messages.count()
    await panel.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    await expect(messages).not_to_have_count(initial)
    # then older messages were prepended (20 more)
    assert await messages.count() >= initial + 20 or await page.get_by_text("没有更多消息了").count() == 1


async def test_qr_refreshes_in_place_after_the_ttl(tmp_path: Path, page: Page) -> None:
    # given a simulator whose QR codes live one second
    with running_simulator(
        tmp_path, seed=4, accounts=1, extra_args=("--qr-ttl", "1", "--works", "2")
    ) as short:
        await page.goto(f"{short.base_url}/")
        img = page.locator("#animate_qrcode_container img")
        first = await img.get_attribute("src")
        # when the page polls past the TTL
        await expect(img).not_to_have_attribute("src", first or "")
        # then a new ticket is pending and the image shows it, without a page reload
        tickets = short.control("GET", "qr/tickets")["tickets"]
        assert tickets[0]["state"] == "new" and tickets[-1]["state"] == "expired"
        assert await img.get_attribute("data-token") == tickets[0]["id"]
        assert page.url == f"{short.base_url}/"


async def test_faults_in_the_browser_expired_session_captcha_and_failing_dm(
    page: Page, simulator: Simulator
) -> None:
    # given a logged-in account (the second one)
    uid = simulator.control("GET", "accounts")["accounts"][1]["uid"]
    await login(page, simulator, uid)
    # when DM sends fail and a message is sent from the chat page
    simulator.control("POST", "faults/dm-fail", {"uid": uid})
    await page.goto(f"{simulator.base_url}/creator-micro/data/following/chat")
    await page.locator('[role="list-item"]').first.click()
    await expect(page.locator('[class*="box-content-"] [class*="message-item-"]').first).to_be_visible()
    await page.locator('[class*="chat-input-"] [contenteditable="true"]').fill("这条发不出去")
    await page.locator('[class*="chat-input-"]').get_by_text("发送", exact=True).click()
    # then the page shows the failure and no message node
    await expect(page.get_by_text("发送失败，对方已设置隐私权限")).to_be_visible()
    assert await page.locator('[class*="message-item-"]', has_text="这条发不出去").count() == 0
    # when captcha risk mode is on, the pages show the captcha
    simulator.control("POST", "faults/risk", {"mode": "captcha", "uid": uid})
    await page.goto(f"{simulator.base_url}/creator-micro/home")
    await expect(page.locator("#captcha_container")).to_be_visible()
    await expect(page.get_by_text("验证码", exact=True)).to_be_visible()
    simulator.control("POST", "faults/reset")
    # when the account's sessions expire, a page load lands on the login card
    simulator.control("POST", "sessions/expire", {"uid": uid})
    await page.goto(f"{simulator.base_url}/creator-micro/interactive/comment")
    await expect(page.get_by_text("扫码登录")).to_be_visible()
    assert page.url == f"{simulator.base_url}/"

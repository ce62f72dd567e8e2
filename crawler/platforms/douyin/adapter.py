"""Douyin adapter: Playwright steps over the creator center (login, crawl, reply).

It reads what the page itself fetches (response interception; the page signs its own calls) and
drives the page to get more (scroll, click 选择作品 / 查看N条回复, open chat rows). Messages are read
from the fiber props of the rendered message nodes. Replies succeed only with the platform's proof:
the comment-reply API's answer, or the sent message appearing with its server id.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from crawler.errors import CrawlError, LoginExpired, ReplyFailed, RiskDetected
from crawler.pagekit import ResponseTap, fiber_install
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from datasync.protocol import Comment, Content, Message, Profile, ReplyTarget

logger = logging.getLogger("crawler.douyin")

Batch = tuple[str, list[Any]]
COMMENT_LANES = 3  # comment pages read side by side during one crawl
LoginReport = Callable[..., Awaitable[None]]


class CrawlMemory:
    """What the adapter saw last time, so an incremental crawl skips unchanged works/conversations."""

    def __init__(self) -> None:
        self.work_comment_counts: dict[str, int] = {}
        self.conversation_last: dict[str, str] = {}


def _path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path


async def _page_state_check(page: Page) -> None:
    """Raise LoginExpired on the login card and RiskDetected on a captcha page."""
    for selector in L.CAPTCHA_SELECTORS:
        if await page.locator(selector).count():
            raise RiskDetected("captcha page shown (risk control)")
    if not _path(page.url).startswith(L.LOGGED_IN_PATH_PREFIX):
        raise LoginExpired(f"redirected to the login page ({_path(page.url)})")
    if await page.locator(L.QR_IMAGE).count():
        raise LoginExpired("the login card is shown")


class DouyinAdapter:
    """The creator center of Douyin, real or simulated (base URL from `locators.base_url()`)."""

    name = "douyin"

    def __init__(self, *, base_url: str | None = None) -> None:
        self.base_url = (base_url or L.base_url()).rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    async def _open(self, context: BrowserContext, path: str) -> Page:
        page = await context.new_page()
        page.set_default_timeout(15000)
        try:
            await page.goto(self.url(path), wait_until="domcontentloaded")
        except Exception:
            await page.close()
            raise
        return page

    # ---- login -------------------------------------------------------------------------------

    async def login_check(self, *, context: BrowserContext) -> Profile:
        """Open the home page: the profile when logged in, else LoginExpired / RiskDetected."""
        page = await self._open(context, L.HOME_PATH)
        try:
            await _page_state_check(page)
            return await self._profile_read(page)
        finally:
            await page.close()

    async def _profile_read(self, page: Page) -> Profile:
        unique = page.locator(L.PROFILE_UNIQUE_ID).first
        await unique.wait_for(timeout=10000)

        async def text(selector: str) -> str:
            node = page.locator(selector).first
            return (await node.inner_text()) if await node.count() else ""

        avatar = page.locator(f"img{L.PROFILE_AVATAR}").first
        return parsers.profile_parse(
            unique_id_text=await unique.inner_text(),
            nickname=await text(L.PROFILE_NAME),
            avatar_url=(await avatar.get_attribute("src") or "") if await avatar.count() else "",
            followers=await text("#guide_home_fans [class*='number-']"),
            following=await text("#guide_home_following [class*='number-']"),
        )

    async def login_run(
        self, *, context: BrowserContext, report: LoginReport, timeout: float = 180.0
    ) -> Profile:
        """QR login: report the QR (and each refresh), the scan, then success with the profile."""
        page = await context.new_page()
        page.set_default_timeout(15000)
        try:
            await page.goto(self.url(L.LOGIN_PATH), wait_until="domcontentloaded")
            deadline = time.monotonic() + timeout
            last_src, scanned = None, False
            while time.monotonic() < deadline:
                if _path(page.url).startswith(L.LOGGED_IN_PATH_PREFIX):
                    await page.wait_for_load_state("domcontentloaded")
                    if _path(page.url) != L.HOME_PATH:
                        await page.goto(self.url(L.HOME_PATH), wait_until="domcontentloaded")
                    return await self._profile_read(page)
                try:
                    image = page.locator(L.QR_IMAGE).first
                    if await image.count():
                        src = await image.get_attribute("src", timeout=2000)
                        if src and src != last_src:
                            shot = await image.screenshot(timeout=5000)
                            data_url = "data:image/png;base64," + base64.b64encode(shot).decode()
                            status = "qrcode_ready" if last_src is None else "qrcode_refreshed"
                            await report(status=status, qr_image=data_url)
                            last_src, scanned = src, False
                        if not scanned and await page.get_by_text(L.SCAN_HINT_TEXT).is_visible():
                            scanned = True
                            await report(status="scanned")
                except PlaywrightError as exc:
                    # The page moves on by itself (scan confirmed -> redirect): look again.
                    logger.debug("login page changed under us: %s", exc)
                await asyncio.sleep(0.4)
            raise CrawlError("QR login timed out", code="timeout")
        finally:
            await page.close()

    # ---- crawl -------------------------------------------------------------------------------

    async def crawl(self, *, context: BrowserContext, memory: CrawlMemory) -> AsyncIterator[Batch]:
        """Works first; then comments (of works whose count changed) and the chat, side by side in
        two pages of the same context. Batches are yielded as they come."""
        works: list[Content] = []
        started = time.monotonic()
        async for batch in self._crawl_works(context):
            works.extend(batch)
            yield ("contents", batch)
        logger.debug("works: %d in %.1fs", len(works), time.monotonic() - started)
        todo = [
            w
            for w in works
            if w.stats.comments and memory.work_comment_counts.get(w.content_id) != w.stats.comments
        ]
        queue: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue()

        async def comments() -> None:
            if not todo:
                return
            async for kind, records, work in self._crawl_comments(context, todo):
                await queue.put((kind, records))
                if work is not None:
                    memory.work_comment_counts[work.content_id] = work.stats.comments

        async def chat() -> None:
            async for batch in self._crawl_chat(context, memory):
                await queue.put(batch)

        async def guarded(part: Callable[[], Awaitable[None]], name: str) -> None:
            began = time.monotonic()
            try:
                await part()
            except BaseException as exc:  # handed to the consumer, which raises it
                await queue.put(exc)
            finally:
                logger.debug("%s done in %.1fs", name, time.monotonic() - began)
                await queue.put(None)

        tasks = [
            asyncio.create_task(guarded(comments, "comments")),
            asyncio.create_task(guarded(chat, "chat")),
        ]
        try:
            finished = 0
            while finished < len(tasks):
                item = await queue.get()
                if item is None:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _crawl_works(self, context: BrowserContext) -> AsyncIterator[list[Content]]:
        page = await context.new_page()
        page.set_default_timeout(15000)
        tap = ResponseTap(page, {"works": L.WORK_LIST_API})
        try:
            await page.goto(self.url(L.WORKS_PATH), wait_until="domcontentloaded")
            await _page_state_check(page)
            more, idle = True, 0
            while more:
                if not await tap.wait_for("works", count=1, timeout=10):
                    idle += 1
                    if idle >= 3:
                        if await page.get_by_text(L.NO_MORE_TEXT, exact=True).count():
                            return
                        raise CrawlError("works list stopped loading before its end")
                    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
                    continue
                idle = 0
                for captured in tap.take("works"):
                    works, more = parsers.work_list_parse(body=captured.body)
                    yield works
                if more:
                    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        finally:
            await page.close()

    async def _work_pick(self, page: Page, tap: ResponseTap, content_id: str) -> None:
        """Open 选择作品 and click the card of `content_id` (scrolling the picker to load more cards)."""
        await page.get_by_text(L.SELECT_WORK_TEXT, exact=True).first.click()
        await page.locator(L.WORK_MODAL).first.wait_for()
        for _ in range(200):
            await tap.settle(quiet=0.1)
            tap.take("picker")
            found = await page.evaluate(
                """([sel, id]) => {
                    const card = Array.from(document.querySelectorAll(sel)).find(
                        (n) => { const p = window.__imhubFiberProps(n, "awemeId"); return p && String(p.awemeId) === id; });
                    if (card) { card.scrollIntoView(); card.click(); return true; }
                    return false; }""",
                [L.WORK_CARD, content_id],
            )
            if found:
                return
            ended = await page.evaluate(
                """(sel) => { const list = document.querySelector(sel);
                    if (!list) return true;
                    const before = list.scrollTop; list.scrollTop = list.scrollHeight;
                    list.dispatchEvent(new Event("scroll"));
                    return list.textContent.includes("没有更多") && list.scrollTop === before; }""",
                L.WORK_MODAL_LIST,
            )
            if ended:
                break
        raise CrawlError(f"work {content_id} not found in the 选择作品 picker")

    async def _crawl_comments(
        self, context: BrowserContext, works: list[Content], *, lanes: int = COMMENT_LANES
    ) -> AsyncIterator[tuple[str, list[Comment], Content | None]]:
        """Comments of `works`, read by up to `lanes` comment pages side by side (one work at a time
        each, as a person with several tabs would); results are yielded as each work finishes."""
        pending: asyncio.Queue[Content] = asyncio.Queue()
        for work in works:
            pending.put_nowait(work)
        results: asyncio.Queue[tuple[list[Comment], Content] | BaseException | None] = asyncio.Queue()

        async def lane() -> None:
            page = await context.new_page()
            page.set_default_timeout(15000)
            tap = ResponseTap(
                page,
                {
                    "comments": L.COMMENT_LIST_API,
                    "replies": L.COMMENT_REPLY_LIST_API,
                    "picker": L.WORK_LIST_API,
                },
            )
            try:
                await page.goto(self.url(L.COMMENTS_PATH), wait_until="domcontentloaded")
                await _page_state_check(page)
                await fiber_install(page)
                while not pending.empty():
                    work = pending.get_nowait()
                    await self._work_pick(page, tap, work.content_id)
                    await results.put((await self._comments_load_all(page, tap), work))
            except BaseException as exc:
                await results.put(exc)
            finally:
                await page.close()
                await results.put(None)

        tasks = [asyncio.create_task(lane()) for _ in range(max(1, min(lanes, len(works))))]
        try:
            finished = 0
            while finished < len(tasks):
                item = await results.get()
                if item is None:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield ("comments", item[0], item[1])
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _comments_load_all(self, page: Page, tap: ResponseTap) -> list[Comment]:
        """Scroll the comment panel to its end, then open every 查看N条回复 until none is left."""
        collected: list[Comment] = []

        def absorb() -> bool:
            more = False
            for captured in tap.take("comments"):
                batch, has_more = parsers.comment_list_parse(body=captured.body)
                collected.extend(batch)
                more = has_more
            for captured in tap.take("replies"):
                batch, _ = parsers.comment_list_parse(body=captured.body)
                collected.extend(batch)
            return more

        await tap.wait_for("comments", count=1, timeout=15)
        for _ in range(500):
            await tap.settle(quiet=0.15)
            more = absorb()
            ended = await page.evaluate(
                """([sel, texts]) => { const p = document.querySelector(sel);
                    if (!p) return true;
                    if (texts.some((t) => p.textContent.includes(t))) return true;
                    p.scrollTop = p.scrollHeight; p.dispatchEvent(new Event("scroll")); return false; }""",
                [L.COMMENT_PANEL, list(L.COMMENT_END_TEXTS)],
            )
            if ended and not more:
                break
        for _ in range(200):
            clicked = await page.evaluate(
                """(sel) => { const found = Array.from(document.querySelectorAll(sel));
                    found.forEach((n) => n.click()); return found.length; }""",
                L.REPLY_MORE,
            )
            await tap.settle(quiet=0.15)
            absorb()
            if not clicked:
                break
        return collected

    async def _crawl_chat(self, context: BrowserContext, memory: CrawlMemory) -> AsyncIterator[Batch]:
        page = await context.new_page()
        page.set_default_timeout(15000)
        tap = ResponseTap(page, {"users": L.USER_DETAIL_API})
        people: dict[str, Any] = {}
        try:
            await page.goto(self.url(L.CHAT_PATH), wait_until="domcontentloaded")
            await _page_state_check(page)
            await fiber_install(page)
            await page.locator(L.CONVERSATION_LIST).first.wait_for()
            seen: dict[str, dict[str, Any]] = {}
            position, stalled = 0, 0
            while stalled < 3:
                await tap.settle(quiet=0.2)
                for captured in tap.take("users"):
                    people.update(parsers.user_detail_parse(body=captured.body))
                rows = await page.evaluate(
                    """(sel) => Array.from(document.querySelectorAll(sel)).map((n, i) => {
                        const p = window.__imhubFiberProps(n, "conversationId"); return p; }).filter(Boolean)""",
                    L.CONVERSATION_ROW,
                )
                fresh = [r for r in rows if r["conversationId"] not in seen]
                for props in fresh:
                    seen[props["conversationId"]] = props
                    last_id = str((props.get("lastMessage") or {}).get("serverId") or "")
                    if memory.conversation_last.get(props["conversationId"]) == last_id:
                        continue
                    messages = await self._messages_read(page, props["conversationId"])
                    if messages:
                        yield ("messages", messages)
                    memory.conversation_last[props["conversationId"]] = last_id
                scroll = await page.evaluate(
                    """([sel, pos]) => { const l = document.querySelector(sel);
                        l.scrollTop = pos; l.dispatchEvent(new Event("scroll"));
                        return [l.scrollTop, l.scrollHeight, l.clientHeight]; }""",
                    [L.CONVERSATION_LIST, position],
                )
                top, height, client = scroll
                if top + client >= height and not fresh:
                    stalled += 1
                else:
                    stalled = 0
                position = top + max(1, client - 2 * L.CONVERSATION_ROW_HEIGHT_FALLBACK)
            await tap.settle(quiet=0.2)
            for captured in tap.take("users"):
                people.update(parsers.user_detail_parse(body=captured.body))
            conversations = [parsers.conversation_parse(props=p, people=people) for p in seen.values()]
            yield ("conversations", conversations)
        finally:
            await page.close()

    async def _conversation_open(self, page: Page, conversation_id: str) -> dict[str, Any]:
        """Click the row of `conversation_id` (scrolling the virtual list to it); returns its props."""
        for attempt in range(2000):
            props = await page.evaluate(
                """([sel, id]) => { const row = Array.from(document.querySelectorAll(sel)).find(
                        (n) => { const p = window.__imhubFiberProps(n, "conversationId"); return p && p.conversationId === id; });
                    if (!row) return null; row.click(); return window.__imhubFiberProps(row, "conversationId"); }""",
                [L.CONVERSATION_ROW, conversation_id],
            )
            if props:
                return props
            moved = await page.evaluate(
                """(sel) => { const l = document.querySelector(sel); const before = l.scrollTop;
                    if (before === 0 && !l.__imhubStarted) { l.__imhubStarted = true; }
                    l.scrollTop = before + l.clientHeight / 2; l.dispatchEvent(new Event("scroll"));
                    return l.scrollTop !== before; }""",
                L.CONVERSATION_LIST,
            )
            if not moved:
                if attempt > 3:
                    break
                await asyncio.sleep(0.3)
            else:
                await asyncio.sleep(0.05)
        raise CrawlError(f"conversation {conversation_id} not found in the chat list")

    async def _messages_read(self, page: Page, conversation_id: str) -> list[Message]:
        """Open a conversation (already rendered or found by scrolling) and read all its messages."""
        await page.evaluate(
            """([sel, id]) => { const row = Array.from(document.querySelectorAll(sel)).find(
                    (n) => { const p = window.__imhubFiberProps(n, "conversationId"); return p && p.conversationId === id; });
                if (row) row.click(); }""",
            [L.CONVERSATION_ROW, conversation_id],
        )
        props = await page.evaluate(
            """async ([panelSel, itemSel, endSel, id]) => {
                const panel = document.querySelector(panelSel);
                const started = Date.now();
                while (Date.now() - started < 15000) {
                    const items = Array.from(panel.querySelectorAll(itemSel))
                        .map((n) => window.__imhubFiberProps(n, "serverId")).filter(Boolean);
                    const mine = items.every((p) => p.conversationId === id);
                    if (panel.querySelector(endSel) && mine) return items;
                    panel.scrollTop = 0; panel.dispatchEvent(new Event("scroll"));
                    await new Promise((r) => setTimeout(r, 60));
                }
                return null; }""",
            [L.MESSAGE_PANEL, L.MESSAGE_ITEM, L.MESSAGE_NO_MORE, conversation_id],
        )
        if props is None:
            raise CrawlError(f"messages of conversation {conversation_id} did not load")
        return [m for m in (parsers.message_parse(props=p) for p in props) if m is not None]

    # ---- replies -----------------------------------------------------------------------------

    async def reply_send(
        self, *, context: BrowserContext, target: ReplyTarget, text: str
    ) -> Comment | Message:
        """Perform a reply in the page; returns the created entity, proven by the platform's answer."""
        if target.kind == "message":
            return await self._message_send(context, target, text)
        if not target.content_id:
            raise ReplyFailed("a comment or work reply needs content_id", code="invalid_target")
        page = await context.new_page()
        page.set_default_timeout(15000)
        tap = ResponseTap(
            page,
            {"comments": L.COMMENT_LIST_API, "replies": L.COMMENT_REPLY_LIST_API, "picker": L.WORK_LIST_API},
        )
        try:
            await page.goto(self.url(L.COMMENTS_PATH), wait_until="domcontentloaded")
            await _page_state_check(page)
            await fiber_install(page)
            await self._work_pick(page, tap, target.content_id)
            await tap.wait_for("comments", count=1, timeout=15)
            await tap.settle(quiet=0.15)
            if target.kind == "work":
                editor = page.locator(f'[class*="top-editor-"] {L.EDITOR}').first
                scope = page.locator('[class*="top-editor-"]').first
            else:
                if not target.comment_id:
                    raise ReplyFailed("a comment reply needs comment_id", code="invalid_target")
                await self._comment_reveal(page, tap, target.comment_id)
                marker = f"imhub-target-{target.comment_id}"
                await page.evaluate(
                    """([sel, id, marker]) => { const node = Array.from(document.querySelectorAll(sel)).find(
                            (n) => { const p = window.__imhubFiberProps(n, "cid"); return p && String(p.cid) === id; });
                        node.id = marker;
                        const op = Array.from(node.querySelector('[class*="operations-"]').children)
                            .find((c) => c.textContent.trim() === "回复");
                        op.click(); }""",
                    [L.COMMENT_ITEM, target.comment_id, marker],
                )
                scope = page.locator(f'#{marker} [class*="reply-editor-slot-"]').first
                editor = scope.locator(L.EDITOR).first
            await editor.click()
            await editor.fill(text)
            async with page.expect_response(
                lambda r: bool(L.COMMENT_REPLY_POST_API.match(_path(r.url))), timeout=15000
            ) as info:
                await scope.get_by_text(L.SEND_TEXT, exact=True).click()
            response = await info.value
            body = await response.json()
            code = parsers.as_int(body.get("status_code") if isinstance(body, dict) else None, -1)
            if code != 0:
                raise ReplyFailed(
                    str(body.get("status_msg") or "refused by the platform"), code=f"platform_{code}"
                )
            created = dict(body["comment_info"])
            created.setdefault("cid", created.get("comment_id"))
            return parsers.comment_parse(raw=created)
        finally:
            await page.close()

    async def _comment_reveal(self, page: Page, tap: ResponseTap, comment_id: str) -> None:
        """Load comments (scroll, expand replies) until the node of `comment_id` is rendered."""
        for _ in range(300):
            found = await page.evaluate(
                """([sel, id]) => Array.from(document.querySelectorAll(sel)).some(
                    (n) => { const p = window.__imhubFiberProps(n, "cid"); return p && String(p.cid) === id; })""",
                [L.COMMENT_ITEM, comment_id],
            )
            if found:
                return
            progressed = await page.evaluate(
                """([panelSel, moreSel, texts]) => { const p = document.querySelector(panelSel);
                    if (!texts.some((t) => p.textContent.includes(t))) {
                        p.scrollTop = p.scrollHeight; p.dispatchEvent(new Event("scroll")); return true; }
                    const more = Array.from(document.querySelectorAll(moreSel));
                    more.forEach((n) => n.click()); return more.length > 0; }""",
                [L.COMMENT_PANEL, L.REPLY_MORE, list(L.COMMENT_END_TEXTS)],
            )
            await tap.settle(quiet=0.15)
            tap.take()
            if not progressed:
                break
        raise ReplyFailed(f"comment {comment_id} not found on the page", code="target_not_found")

    async def _message_send(self, context: BrowserContext, target: ReplyTarget, text: str) -> Message:
        if not target.conversation_id:
            raise ReplyFailed("a message reply needs conversation_id", code="invalid_target")
        page = await context.new_page()
        page.set_default_timeout(15000)
        try:
            await page.goto(self.url(L.CHAT_PATH), wait_until="domcontentloaded")
            await _page_state_check(page)
            await fiber_install(page)
            await page.locator(L.CONVERSATION_LIST).first.wait_for()
            await page.locator(L.CONVERSATION_ROW).first.wait_for()
            props = await self._conversation_open(page, target.conversation_id)
            before = {m.message_id for m in await self._messages_read(page, target.conversation_id)}
            expected = str((props.get("peer") or {}).get("nickname") or "")
            header = (await page.locator(L.CHAT_HEADER_NAME).first.inner_text()).strip()
            if not expected or header != expected:
                raise ReplyFailed(
                    f"chat header shows {header!r}, expected {expected!r}", code="wrong_conversation"
                )
            editor = page.locator(L.CHAT_INPUT).first
            await editor.click()
            await editor.fill(text)
            await page.locator(L.CHAT_SEND).first.click()
            sent = await page.evaluate(
                """async ([panelSel, itemSel, id, text, before]) => {
                    const panel = document.querySelector(panelSel); const started = Date.now();
                    while (Date.now() - started < 15000) {
                        const hit = Array.from(panel.querySelectorAll(itemSel))
                            .map((n) => window.__imhubFiberProps(n, "serverId")).filter(Boolean)
                            .find((p) => p.isFromMe && p.conversationId === id && p.content && p.content.text === text
                                  && !before.includes(String(p.serverId)));
                        if (hit) return hit;
                        const toast = document.querySelector('[class*="toast"]');
                        if (toast && toast.textContent && toast.textContent.includes("失败")) return {error: toast.textContent};
                        await new Promise((r) => setTimeout(r, 100));
                    }
                    return null; }""",
                [L.MESSAGE_PANEL, L.MESSAGE_ITEM, target.conversation_id, text.strip(), sorted(before)],
            )
            if sent is None:
                raise ReplyFailed(
                    "the sent message did not appear (no proof of delivery)", code="unconfirmed"
                )
            if "error" in sent:
                raise ReplyFailed(str(sent["error"]).strip(), code="platform_refused")
            message = parsers.message_parse(props=sent)
            if message is None:
                raise ReplyFailed("the sent message could not be read", code="unconfirmed")
            return message
        finally:
            await page.close()

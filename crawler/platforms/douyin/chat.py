"""Douyin chat surface: the private-message page (virtualised conversation list, message panel)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.errors import CrawlError, SurfaceChanged
from crawler.pagekit import ResponseTap, fiber_install
from crawler.platforms import Batch, DriftNote
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import DouyinMemory, Site, page_state_check
from datasync.protocol import Message, Person


async def conversation_list_wait(page: Page) -> None:
    """The chat page's conversation list must render; SurfaceChanged when it does not."""
    try:
        await page.locator(L.CONVERSATION_LIST).first.wait_for()
    except PlaywrightTimeout:
        raise SurfaceChanged(
            "the chat page loaded but its conversation list did not appear",
            locator="chat.conversation_list",
            sample={"page": L.CHAT_PATH, "selector": L.CONVERSATION_LIST},
        ) from None


async def chat_page_open(site: Site, *, context: BrowserContext) -> Page:
    page = await site.page_open(context, L.CHAT_PATH)
    try:
        await page_state_check(page)
        await fiber_install(page)
        await conversation_list_wait(page)
    except BaseException:
        await page.close()
        raise
    return page


async def chat_crawl(site: Site, *, context: BrowserContext, memory: DouyinMemory) -> AsyncIterator[Batch]:
    """Messages of every conversation whose last message changed, then all conversations."""
    page = await site.page_new(context)
    tap = ResponseTap(page, {"users": L.USER_DETAIL_API})
    people: dict[str, Person] = {}
    try:
        await page.goto(site.url(L.CHAT_PATH), wait_until="domcontentloaded")
        await page_state_check(page)
        await fiber_install(page)
        await conversation_list_wait(page)
        seen: dict[str, dict[str, Any]] = {}
        me = ""  # the account's own uid, to tell the peer in a captured-shape row (ids name both)
        position, stalled = 0, 0
        while stalled < 3:
            await tap.settle(quiet=0.2)
            for captured in tap.take("users"):
                people.update(parsers.user_detail_parse(body=captured.body))
            shown, rows = await page.evaluate(
                """([sel, keys]) => { const nodes = Array.from(document.querySelectorAll(sel));
                    return [nodes.length, nodes.map((n) => window.__imhubFiberProps(n, keys)).filter(Boolean)]; }""",
                [L.CONVERSATION_ROW, list(L.CONVERSATION_KEYS)],
            )
            rows = [r for r in rows if parsers.conversation_key(r)]
            if shown and not rows and not seen:
                raise SurfaceChanged(
                    f"the chat list shows {shown} row(s) but none carries a conversation in its props",
                    locator="chat.conversation_props",
                    sample={
                        "page": L.CHAT_PATH,
                        "selector": L.CONVERSATION_ROW,
                        "keys": list(L.CONVERSATION_KEYS),
                    },
                )
            fresh = [r for r in rows if parsers.conversation_key(r) not in seen]
            for props in fresh:
                key = parsers.conversation_key(props)
                seen[key] = props
                last_id = str(parsers.last_message(props).get("serverId") or "")
                if memory.conversation_last.get(key) == last_id:
                    continue
                messages = await messages_read(
                    page, key, drift=memory.drift, known=memory.known_ids.get("messages")
                )
                if messages:
                    yield ("messages", messages)
                    me = me or next(
                        (m.sender_id for m in messages if m.direction == "out" and m.sender_id), ""
                    )
                memory.conversation_last[key] = last_id
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
        me = me or parsers.self_uid(list(seen.values()))
        me_sec = parsers.self_sec_uid(list(seen.values()))
        conversations = parsers.records_parse(
            items=list(seen.values()),
            what="chat.conversation_props",
            parse=lambda p: parsers.conversation_parse(props=p, people=people, me=me, me_sec=me_sec),
            skipped=memory.drift,
        )
        yield ("conversations", conversations)
    finally:
        await page.close()


async def conversation_open(page: Page, conversation_id: str) -> dict[str, Any]:
    """Click the row of `conversation_id` (scrolling the virtual list to it); returns its props."""
    for attempt in range(2000):
        props = await page.evaluate(
            """([sel, id, keys]) => { const row = Array.from(document.querySelectorAll(sel)).find(
                    (n) => { const p = window.__imhubFiberProps(n, keys); return p && (p.conversationId || p.id) === id; });
                if (!row) return null; row.click(); return window.__imhubFiberProps(row, keys); }""",
            [L.CONVERSATION_ROW, conversation_id, list(L.CONVERSATION_KEYS)],
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


async def messages_read(
    page: Page,
    conversation_id: str,
    *,
    drift: list[DriftNote] | None = None,
    known: set[str] | None = None,
) -> list[Message]:
    """Open a conversation (already rendered or found by scrolling) and read its messages back to one
    the worker already holds (`known` ids; every message when none is known, e.g. after a resync)."""
    await page.evaluate(
        """([sel, id, keys]) => { const row = Array.from(document.querySelectorAll(sel)).find(
                (n) => { const p = window.__imhubFiberProps(n, keys); return p && (p.conversationId || p.id) === id; });
            if (row) row.click(); }""",
        [L.CONVERSATION_ROW, conversation_id, list(L.CONVERSATION_KEYS)],
    )
    props = await page.evaluate(
        """async ([panelSel, itemSel, endSel, id, knownIds]) => {
            const panel = document.querySelector(panelSel);
            const known = new Set(knownIds);
            const started = Date.now();
            while (Date.now() - started < 15000) {
                const items = Array.from(panel.querySelectorAll(itemSel))
                    .map((n) => window.__imhubFiberProps(n, "serverId")).filter(Boolean);
                const mine = items.length > 0 && items.every((p) => p.conversationId === id);
                if (mine && known.size && items.some((p) => known.has(String(p.serverId)))) return items;
                if (panel.querySelector(endSel) && (mine || !items.length)) return items;
                panel.scrollTop = 0; panel.dispatchEvent(new Event("scroll"));
                await new Promise((r) => setTimeout(r, 60));
            }
            return null; }""",
        [L.MESSAGE_PANEL, L.MESSAGE_ITEM, L.MESSAGE_NO_MORE, conversation_id, sorted(known or ())],
    )
    if props is None:
        raise CrawlError(f"messages of conversation {conversation_id} did not load")
    return parsers.records_parse(
        items=props,
        what="chat.message_props",
        parse=lambda p: parsers.message_parse(props=p),
        skipped=drift if drift is not None else [],
    )

"""Douyin comments surface: the comment-management page (选择作品 picker, comment panel, replies).

The page's comment and reply lists come in either shape (see `parsers.comments`); the captured one
names no work and no parent, so each response is read with the work the page chose and the comment
whose replies it asked for (`captured_comments`). A panel that shows comments, or a list that says it
holds some, while the responses yield none is a surface change, never a silent zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from playwright.async_api import BrowserContext, Page

from crawler.errors import CrawlError, SurfaceChanged
from crawler.pagekit import Captured, ResponseTap, fiber_install, tasks_merged
from crawler.platforms import Batch, DriftNote
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import Site, page_state_check
from datasync.protocol import Comment, Content, Notification

COMMENT_LANES = 3  # comment pages read side by side during one crawl


def comment_tap(page: Page) -> ResponseTap:
    """The responses a comment page fetches: comments, replies, the picker's works, notices."""
    return ResponseTap(
        page,
        {
            "comments": L.COMMENT_LIST_API,
            "replies": L.COMMENT_REPLY_LIST_API,
            "picker": L.WORK_LIST_API,
            "notices": L.NOTICE_API,
        },
    )


def captured_comments(captured: Captured, *, content_id: str | None) -> parsers.Parsed[Comment]:
    """One comment or reply list response, read with its context: `content_id` is the work the page
    chose; a reply list's parent is the `comment_id` it asked for."""
    asked = captured.query.get("comment_id") or [] if captured.name == "replies" else []
    parent = asked[0] if asked else None
    return parsers.comment_list_parse(
        body=captured.body, status=captured.status, content_id=content_id, parent_id=parent
    )


def notices_take(tap: ResponseTap, drift: list[DriftNote]) -> list[Notification]:
    """Notifications from the notice API responses the page fetched (when it fetches them)."""
    found: list[Notification] = []
    for captured in tap.take("notices"):
        parsed = parsers.notice_list_parse(body=captured.body, status=captured.status)
        drift.extend(parsed.skipped)
        found.extend(parsed.records)
    return found


async def comment_page_open(site: Site, *, context: BrowserContext) -> tuple[Page, ResponseTap]:
    page = await site.page_new(context)
    tap = comment_tap(page)
    try:
        await page.goto(site.url(L.COMMENTS_PATH), wait_until="domcontentloaded")
        await page_state_check(page)
        await fiber_install(page)
    except BaseException:
        await page.close()
        raise
    return page, tap


async def work_pick(page: Page, tap: ResponseTap, content_id: str) -> None:
    """Open 选择作品 and click the card of `content_id` (scrolling the picker to load more cards)."""
    await page.get_by_text(L.SELECT_WORK_TEXT, exact=True).first.click()
    await page.locator(L.WORK_MODAL).first.wait_for()
    for _ in range(200):
        await tap.settle(quiet=0.1)
        tap.take("picker")
        # a card holds its work as `awemeId` (work_list picker) or as an item-list entry (`item_id_plain`)
        found = await page.evaluate(
            """([sel, id]) => {
                const card = Array.from(document.querySelectorAll(sel)).find((n) => {
                    const p = window.__imhubFiberProps(n, "awemeId"); if (p) return String(p.awemeId) === id;
                    const q = window.__imhubFiberProps(n, "item");
                    return !!(q && q.item && String(q.item.item_id_plain) === id); });
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


async def comments_crawl(
    site: Site,
    *,
    context: BrowserContext,
    works: list[Content],
    drift: list[DriftNote],
    lanes: int = COMMENT_LANES,
) -> AsyncIterator[tuple[Batch, Content | None]]:
    """Comments of `works`, read by up to `lanes` comment pages side by side (one work at a time
    each, as a person with several tabs would); results are yielded as each work finishes, with the
    work when all of its comments parsed (None for a work with skipped records, and for the
    notifications a page fetched)."""
    pending: asyncio.Queue[Content] = asyncio.Queue()
    for work in works:
        pending.put_nowait(work)
    results: asyncio.Queue[tuple[Batch, Content | None] | BaseException | None] = asyncio.Queue()

    async def lane() -> None:
        try:
            page, tap = await comment_page_open(site, context=context)
            try:
                while not pending.empty():
                    work = pending.get_nowait()
                    await work_pick(page, tap, work.content_id)
                    skipped = len(drift)
                    found = await comments_load_all(page, tap, drift, content_id=work.content_id)
                    # A work with skipped records is not "seen": the next crawl reads it again.
                    await results.put((("comments", found), work if len(drift) == skipped else None))
                await tap.settle(quiet=0.15)
                notices = notices_take(tap, drift)
                if notices:
                    await results.put((("notifications", notices), None))
            finally:
                await page.close()
        except BaseException as exc:
            await results.put(exc)
        finally:
            await results.put(None)

    tasks = [asyncio.create_task(lane()) for _ in range(max(1, min(lanes, len(works))))]
    async for item in tasks_merged(results, tasks):
        yield item


async def comments_first_wait(tap: ResponseTap) -> None:
    """After a work is chosen its comments must load; SurfaceChanged when no known response came."""
    if not await tap.wait_for("comments", count=1, timeout=15):
        raise SurfaceChanged(
            "a work was chosen but no known comment-list response came",
            locator=f"comments.{L.COMMENT_LIST_API.name}",
            sample={"page": L.COMMENTS_PATH, "fetched_paths": list(tap.unmatched)},
        )


async def comments_load_all(
    page: Page, tap: ResponseTap, drift: list[DriftNote], *, content_id: str | None = None
) -> list[Comment]:
    """Scroll the comment panel to its end, then open every 查看N条回复 until none is left; the
    chosen work is `content_id` (needed by the captured list shape, which does not name it)."""
    collected: list[Comment] = []
    seen = {"skipped": 0, "declared": 0}

    def absorb() -> bool:
        more = False
        for captured in tap.take("comments"):
            parsed = captured_comments(captured, content_id=content_id)
            collected.extend(parsed.records)
            drift.extend(parsed.skipped)
            seen["skipped"] += len(parsed.skipped)
            seen["declared"] = max(seen["declared"], parsers.comments_total(captured.body))
            more = parsed.has_more
        for captured in tap.take("replies"):
            parsed = captured_comments(captured, content_id=content_id)
            collected.extend(parsed.records)
            drift.extend(parsed.skipped)
            seen["skipped"] += len(parsed.skipped)
        return more

    await comments_first_wait(tap)
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
    if not collected and not seen["skipped"]:
        shown = await page.locator(L.COMMENT_ITEM).count()
        if shown or seen["declared"]:
            raise SurfaceChanged(
                f"the comment panel shows {shown} comments and the list says {seen['declared']}, "
                "but the responses yielded none",
                locator=f"comments.{L.COMMENT_LIST_API.name}",
                sample={"page": L.COMMENTS_PATH, "content_id": content_id, "shown": shown},
            )
    return collected

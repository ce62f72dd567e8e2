"""Douyin comments surface: the comment-management page (选择作品 picker, comment panel, replies).

The page's comment and reply lists come in either shape (see `parsers.comments`); the captured one
names no work and no parent, so each response is read with the work the page chose and the comment
whose replies it asked for (`captured_comments`). A panel that shows comments, or a list that says it
holds some, while the responses yield none is a surface change, never a silent zero.

Incremental reads (`CommentRead`): the panel lists top-level comments newest first, so a read that knows
what it delivered before stops scrolling at the first page holding a known comment, once what it found
accounts for the work's growth (`expect_new`: new comments plus the growth of the scanned comments'
reply counts) and for the comments a notice named (`expect_ids`); then it opens the replies only of the
comments that are new or whose reply count changed since their replies were last read. When that does
not account for everything (a new reply under an older comment, or a notice's comment not found), the
read goes on to the end and opens every reply list: a read never stops short of what it was told to
find. The first read of a work and the periodic reconciliation read everything (`full`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field

from playwright.async_api import BrowserContext, Page

from crawler.errors import CrawlError, SurfaceChanged
from crawler.pagekit import Captured, ResponseTap, fiber_install, tasks_merged
from crawler.platforms import Batch, DriftNote
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import Site, page_state_check
from datasync.protocol import Comment, Content, Notification

COMMENT_LANES = 3  # comment pages read side by side during one crawl


@dataclass
class CommentRead:
    """What a read of one work's comments knows beforehand (see the module docstring)."""

    full: bool = True  # read everything: scroll to the end and open every reply list
    known: Collection[str] = ()  # comment ids delivered before: scrolling may stop at them
    # top-level comment id -> its reply count when its replies were last read (updated by the read)
    reply_counts: dict[str, int] = field(default_factory=dict)
    expect_new: int | None = None  # comments (replies included) the work gained since the last read
    expect_ids: Collection[str] = ()  # comments that must be found (a notice named them)


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
    reads: dict[str, CommentRead] | None = None,
) -> AsyncIterator[tuple[Batch, Content | None]]:
    """Comments of `works`, read by up to `lanes` comment pages side by side (one work at a time
    each, as a person with several tabs would); results are yielded as each work finishes, with the
    work when all of its comments parsed (None for a work with skipped records, and for the
    notifications a page fetched). `reads`: per work id, what an incremental read knows (default:
    read everything)."""
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
                    found = await comments_load_all(
                        page, tap, drift, content_id=work.content_id, read=(reads or {}).get(work.content_id)
                    )
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
    page: Page,
    tap: ResponseTap,
    drift: list[DriftNote],
    *,
    content_id: str | None = None,
    read: CommentRead | None = None,
) -> list[Comment]:
    """Scroll the comment panel to its end (or, incrementally, to known comments), then open the
    查看N条回复 controls (all, or those of new and changed comments) until none is left; the chosen work
    is `content_id` (needed by the captured list shape, which does not name it)."""
    read = read or CommentRead()
    collected: list[Comment] = []
    top: dict[str, Comment] = {}  # top-level comments scanned, in the panel's order
    seen = {"skipped": 0, "declared": 0, "known": 0}

    def absorb() -> bool:
        more = False
        for captured in tap.take("comments"):
            parsed = captured_comments(captured, content_id=content_id)
            collected.extend(parsed.records)
            drift.extend(parsed.skipped)
            seen["skipped"] += len(parsed.skipped)
            seen["declared"] = max(seen["declared"], parsers.comments_total(captured.body))
            for comment in parsed.records:
                if comment.parent_id is None:
                    top[comment.comment_id] = comment
                    seen["known"] += comment.comment_id in read.known
            more = parsed.has_more
        for captured in tap.take("replies"):
            parsed = captured_comments(captured, content_id=content_id)
            collected.extend(parsed.records)
            drift.extend(parsed.skipped)
            seen["skipped"] += len(parsed.skipped)
        return more

    def changed() -> list[str]:
        """Scanned comments that are new or whose reply count changed since their replies were read."""
        return [
            cid for cid, c in top.items() if c.reply_count and read.reply_counts.get(cid) != c.reply_count
        ]

    def accounted(*, opened: bool) -> bool:
        """Whether what was found covers the work's growth and the notice's comments."""
        if read.expect_new is not None:
            if opened:  # replies read: count what is new
                grown = sum(1 for c in collected if c.comment_id not in read.known)
            else:  # before the replies are read: new comments and the growth of reply counts
                grown = sum(
                    c.reply_count
                    if cid not in read.known
                    else max(0, c.reply_count - read.reply_counts.get(cid, c.reply_count))
                    for cid, c in top.items()
                ) + sum(1 for cid in top if cid not in read.known)
            if grown < read.expect_new:
                return False
        if opened:
            return set(read.expect_ids) <= {c.comment_id for c in collected}
        return True

    await comments_first_wait(tap)
    if read.full:
        await _panel_scroll(page, tap, absorb, stop=lambda: False)
        await _replies_open(page, tap, absorb)
    else:
        stopped_early = await _panel_scroll(
            page, tap, absorb, stop=lambda: seen["known"] > 0 and accounted(opened=False)
        )
        await _replies_open(page, tap, absorb, only=changed(), scanned=list(top))
        if not accounted(opened=True) and stopped_early:  # it is further down: scroll to the end
            await _panel_scroll(page, tap, absorb, stop=lambda: False)
            await _replies_open(page, tap, absorb, only=changed(), scanned=list(top))
        if not accounted(opened=True):  # still short: every reply list
            await _replies_open(page, tap, absorb)
    if not collected and not seen["skipped"]:
        shown = await page.locator(L.COMMENT_ITEM).count()
        if shown or seen["declared"]:
            raise SurfaceChanged(
                f"the comment panel shows {shown} comments and the list says {seen['declared']}, "
                "but the responses yielded none",
                locator=f"comments.{L.COMMENT_LIST_API.name}",
                sample={"page": L.COMMENTS_PATH, "content_id": content_id, "shown": shown},
            )
    if not seen["skipped"]:  # their replies are read now (or did not change)
        read.reply_counts.update({cid: c.reply_count for cid, c in top.items()})
    return collected


async def _panel_scroll(
    page: Page, tap: ResponseTap, absorb: Callable[[], bool], *, stop: Callable[[], bool]
) -> bool:
    """Scroll the comment panel until its end text shows and nothing more is announced; True when
    `stop()` ended it earlier (checked after each batch of responses)."""
    for _ in range(500):
        await tap.settle(quiet=0.15)
        more = absorb()
        if stop():
            return True
        ended = await page.evaluate(
            """([sel, texts]) => { const p = document.querySelector(sel);
                if (!p) return true;
                if (texts.some((t) => p.textContent.includes(t))) return true;
                p.scrollTop = p.scrollHeight; p.dispatchEvent(new Event("scroll")); return false; }""",
            [L.COMMENT_PANEL, list(L.COMMENT_END_TEXTS)],
        )
        if ended and not more:
            return False
    return False


async def _replies_open(
    page: Page,
    tap: ResponseTap,
    absorb: Callable[[], bool],
    *,
    only: list[str] | None = None,
    scanned: list[str] | None = None,
) -> None:
    """Click the 查看N条回复 / 展开更多回复 controls until none is left: all of them, or (`only`) those
    of these top-level comments; a control whose comment's id the page does not show, or shows
    differently from the list (not among `scanned`), is clicked too, so a changed page never hides
    replies."""
    if only is not None and not only:
        return
    for _ in range(200):
        clicked = await page.evaluate(
            """([sel, item, only, scanned]) => { const want = only && new Set(only);
                const known = new Set(scanned || []);
                const found = Array.from(document.querySelectorAll(sel)).filter((n) => {
                    if (!want) return true;
                    const node = n.closest(item);
                    const p = node && window.__imhubFiberProps(node, "cid");
                    return !p || want.has(String(p.cid)) || !known.has(String(p.cid)); });
                found.forEach((n) => n.click()); return found.length; }""",
            [L.REPLY_MORE, L.COMMENT_ITEM, only, scanned],
        )
        await tap.settle(quiet=0.15)
        absorb()
        if not clicked:
            break

"""Douyin works surface: the works-management page and its works responses (either works API).

A list that says it holds works but yields none (every page parsed, nothing kept, nothing skipped) is a
surface change, never a silent zero.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from playwright.async_api import BrowserContext

from crawler.errors import CrawlError, SurfaceChanged
from crawler.pagekit import ResponseTap
from crawler.platforms import DriftNote
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import Site, page_state_check
from datasync.protocol import Content

SCROLL_JS = "window.scrollTo(0, document.documentElement.scrollHeight)"
FIRST_WAITS = 2  # 10 s each, with a scroll between: no known works response by then is drift


async def works_crawl(
    site: Site, *, context: BrowserContext, drift: list[DriftNote]
) -> AsyncIterator[list[Content]]:
    """Every work, page by page, as the page loads them while it is scrolled to its end."""
    page = await site.page_new(context)
    tap = ResponseTap(page, {"works": L.WORK_LIST_API})
    try:
        await page.goto(site.url(L.WORKS_PATH), wait_until="domcontentloaded")
        await page_state_check(page)
        more, idle, pages, found, declared = True, 0, 0, 0, 0
        while more:
            if not await tap.wait_for("works", count=1, timeout=10):
                idle += 1
                if pages == 0 and idle >= FIRST_WAITS:
                    names = " / ".join(name for name, _ in L.WORK_LIST_API.variants)
                    raise SurfaceChanged(
                        f"the works page loaded but no known works response ({names}) came",
                        locator=f"works.{L.WORK_LIST_API.name}",
                        sample={"page": L.WORKS_PATH, "fetched_paths": list(tap.unmatched)},
                    )
                if idle >= 3:
                    if await page.get_by_text(L.NO_MORE_TEXT, exact=True).count():
                        return
                    raise CrawlError("works list stopped loading before its end")
                await page.evaluate(SCROLL_JS)
                continue
            idle = 0
            for captured in tap.take("works"):
                parsed = parsers.work_list_parse(body=captured.body, status=captured.status)
                drift.extend(parsed.skipped)
                pages += 1
                more = parsed.has_more
                found += len(parsed.records) + len(parsed.skipped)
                declared = max(declared, parsers.works_total(captured.body))
                yield parsed.records
            if more:
                await page.evaluate(SCROLL_JS)
        if found == 0 and declared > 0:
            raise SurfaceChanged(
                f"the works response says {declared} works but lists none",
                locator=f"works.{L.WORK_LIST_API.name}",
                sample={"page": L.WORKS_PATH, "declared": declared},
            )
    finally:
        await page.close()

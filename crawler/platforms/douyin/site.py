"""What every Douyin surface module shares: the site's base URL, opening a page, the login/risk check,
and the adapter's per-account memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.async_api import BrowserContext, Page

from crawler.errors import LoginExpired, RiskDetected
from crawler.platforms import CrawlMemory
from crawler.platforms.douyin import locators as L

PAGE_TIMEOUT_MS = 15000


@dataclass
class DouyinMemory(CrawlMemory):
    """What the adapter saw last time, so an incremental crawl skips unchanged works/conversations."""

    work_comment_counts: dict[str, int] = field(default_factory=dict)
    conversation_last: dict[str, str] = field(default_factory=dict)

    def forget(self) -> None:
        super().forget()
        self.work_comment_counts.clear()
        self.conversation_last.clear()


def url_path(url: str) -> str:
    return urlparse(url).path


@dataclass(frozen=True)
class Site:
    """The creator center at `base_url` (the real one or the simulator)."""

    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path

    async def page_new(self, context: BrowserContext) -> Page:
        page = await context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        return page

    async def page_open(self, context: BrowserContext, path: str) -> Page:
        """A new page at `path` (DOM loaded); closed again when the navigation fails."""
        page = await self.page_new(context)
        try:
            await page.goto(self.url(path), wait_until="domcontentloaded")
        except Exception:
            await page.close()
            raise
        return page


async def page_state_check(page: Page) -> None:
    """Raise LoginExpired on the login card and RiskDetected on a captcha page."""
    for selector in L.CAPTCHA_SELECTORS:
        if await page.locator(selector).count():
            raise RiskDetected("captcha page shown (risk control)")
    if not url_path(page.url).startswith(L.LOGGED_IN_PATH_PREFIX):
        raise LoginExpired(f"redirected to the login page ({url_path(page.url)})")
    if await page.locator(L.QR_IMAGE.any).count():
        raise LoginExpired("the login card is shown")

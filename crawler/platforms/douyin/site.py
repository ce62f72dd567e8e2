"""What every Douyin surface module shares: the site's base URL, opening a page, the login/risk check,
and the adapter's per-account memory.

Login state comes only from login signals: no login cookie (`sessionid` / `sid_guard` / `LOGIN_STATUS`),
a redirect to the login page, or the login card's QR. Verification pages (a captcha container, a
`verifycenter` or captcha address, a captcha in a frame, the words 验证码 on a logged-in page) are risk.
An answer a logged-out session also gets (status 8 on a read, `LoginUncertain`) is decided by
`login_uncertain_resolve`: expired on a login signal, else risk (cool down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlparse

from playwright.async_api import BrowserContext, Page

from crawler.errors import LoginExpired, LoginUncertain, RiskDetected
from crawler.platforms import CrawlMemory
from crawler.platforms.douyin import locators as L

PAGE_TIMEOUT_MS = 15000


@dataclass
class DouyinMemory(CrawlMemory):
    """What the adapter saw last time, so an incremental crawl skips unchanged works/conversations."""

    work_comment_counts: dict[str, int] = field(default_factory=dict)
    conversation_last: dict[str, str] = field(default_factory=dict)
    # top-level comment id -> its reply count when its replies were last read (incremental reads)
    comment_reply_counts: dict[str, int] = field(default_factory=dict)

    def forget(self) -> None:
        super().forget()
        self.work_comment_counts.clear()
        self.conversation_last.clear()
        self.comment_reply_counts.clear()


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
    """Raise RiskDetected on a verification page and LoginExpired on the login page or card."""
    path = url_path(page.url)
    if L.VERIFY_URL_RE.search(path):
        raise RiskDetected(f"verification page shown ({path}) (risk control)")
    for selector in L.CAPTCHA_SELECTORS:
        if await page.locator(selector).count():
            raise RiskDetected("captcha page shown (risk control)")
    for frame in page.frames[1:]:
        if L.VERIFY_URL_RE.search(url_path(frame.url)):
            raise RiskDetected(f"a captcha in a frame ({url_path(frame.url)}) (risk control)")
    if await page.locator('iframe[src*="captcha" i], iframe[src*="verifycenter" i]').count():
        raise RiskDetected("a captcha in a frame (risk control)")
    if not path.startswith(L.LOGGED_IN_PATH_PREFIX):
        raise LoginExpired(f"redirected to the login page ({path})")
    if await page.locator(L.QR_IMAGE.any).count():
        raise LoginExpired("the login card is shown")
    if await page.get_by_text(L.VERIFY_TEXT).count():
        raise RiskDetected(f"verification page shown ({L.VERIFY_TEXT}) (risk control)")


async def login_cookies_present(site: Site, context: BrowserContext) -> bool:
    """Whether the context holds any of the site's login cookies (their values are never read)."""
    names = {cookie.get("name") for cookie in await context.cookies(site.base_url)}
    return bool(names & set(L.LOGIN_COOKIES))


async def login_uncertain_resolve(site: Site, context: BrowserContext, cause: LoginUncertain) -> NoReturn:
    """An answer that a logged-out session also gets: LoginExpired on a login signal (no login cookie,
    the home page redirected to the login page or showing the login card), else RiskDetected."""
    if not await login_cookies_present(site, context):
        raise LoginExpired(f"{cause.message}; no login cookie")
    page = await site.page_open(context, L.HOME_PATH)
    try:
        await page_state_check(page)
    finally:
        await page.close()
    raise RiskDetected(f"{cause.message}; the session still opens the home page: risk control")

"""Douyin login surface: the login check on the home page (profile) and the QR login on `/`."""

from __future__ import annotations

import asyncio
import base64
import logging
import time

from playwright.async_api import BrowserContext, Locator, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.errors import CrawlError, SurfaceChanged
from crawler.platforms import LoginReport
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import Site, page_state_check, url_path
from datasync.protocol import Profile

logger = logging.getLogger("crawler.douyin")


async def login_check(site: Site, *, context: BrowserContext) -> Profile:
    """Open the home page: the profile when logged in, else LoginExpired / RiskDetected."""
    page = await site.page_open(context, L.HOME_PATH)
    try:
        await page_state_check(page)
        return await profile_read(page)
    finally:
        await page.close()


async def profile_read(page: Page) -> Profile:
    unique = page.locator(L.PROFILE_UNIQUE_ID).first
    try:
        await unique.wait_for(timeout=10000)
    except PlaywrightTimeout:
        raise SurfaceChanged(
            "the home page loaded but shows no 抖音号 element",
            locator="home.profile_unique_id",
            sample={"page": L.HOME_PATH, "selector": L.PROFILE_UNIQUE_ID, "url": page.url},
        ) from None

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


async def qr_image_find(page: Page) -> tuple[str, Locator] | None:
    """The login card's QR image by the first QR variant present on the page (variant, locator)."""
    for variant, selector in L.QR_IMAGE.variants:
        image = page.locator(selector).first
        if await image.count():
            return variant, image
    return None


async def login_run(
    site: Site, *, context: BrowserContext, report: LoginReport, timeout: float = 180.0
) -> Profile:
    """QR login: report the QR (and each refresh), the scan, then success with the profile."""
    page = await site.page_new(context)
    try:
        await page.goto(site.url(L.LOGIN_PATH), wait_until="domcontentloaded")
        deadline = time.monotonic() + timeout
        last_src, scanned, variant = None, False, ""
        while time.monotonic() < deadline:
            if url_path(page.url).startswith(L.LOGGED_IN_PATH_PREFIX):
                await page.wait_for_load_state("domcontentloaded")
                if url_path(page.url) != L.HOME_PATH:
                    await page.goto(site.url(L.HOME_PATH), wait_until="domcontentloaded")
                return await profile_read(page)
            try:
                found = await qr_image_find(page)
                if found is not None:
                    if found[0] != variant:
                        variant = found[0]
                        logger.info("login QR found by locator variant %s", variant)
                    image = found[1]
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
        if not variant:
            raise SurfaceChanged(
                "the login page never showed a QR image any known locator finds",
                locator=L.QR_IMAGE.name,
                sample={"page": L.LOGIN_PATH, "selectors": [s for _, s in L.QR_IMAGE.variants]},
            )
        raise CrawlError("QR login timed out", code="timeout")
    finally:
        await page.close()

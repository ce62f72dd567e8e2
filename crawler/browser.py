"""Browser pool: one Chromium per worker, one context per account, relaunched when the browser dies.

Each account's context has its own cookies/storage (persisted as Playwright storage state under the
data dir) and a consistent fingerprint derived from the account id: zh-CN, Asia/Shanghai, a real
desktop Chrome UA, a fixed viewport. Pages are opened per task and closed after it, so an idle account
costs a context, not a renderer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from crawler.browser_path import chromium_executable, chromium_launch_args

logger = logging.getLogger("crawler.browser")

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
)
VIEWPORTS = ((1440, 900), (1536, 864), (1920, 1080))


def account_fingerprint(*, account_id: int) -> dict[str, Any]:
    """Context options that stay the same for an account across restarts and workers."""
    width, height = VIEWPORTS[account_id % len(VIEWPORTS)]
    return {
        "user_agent": USER_AGENTS[account_id % len(USER_AGENTS)],
        "viewport": {"width": width, "height": height},
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"},
    }


class BrowserPool:
    """One Chromium and a context per account; `context_get` relaunches a dead browser first."""

    def __init__(self, *, data_dir: Path, headless: bool = True) -> None:
        self.data_dir = data_dir
        self.headless = headless
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._contexts: dict[int, BrowserContext] = {}
        self._lock = asyncio.Lock()
        self.launches = 0

    def state_path(self, account_id: int) -> Path:
        return self.data_dir / "accounts" / f"{account_id}.state.json"

    def storage_state_load(self, account_id: int) -> dict[str, Any] | None:
        path = self.state_path(account_id)
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def storage_state_store(self, account_id: int, state: dict[str, Any] | None) -> None:
        path = self.state_path(account_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        if state is None:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    @property
    def context_count(self) -> int:
        return len(self._contexts)

    async def _browser_ensure(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._browser is not None:
            logger.error("chromium died; relaunching (contexts reopen from stored state)")
            self._contexts.clear()
        if self._pw is None:
            self._pw = await async_playwright().start()
        executable = chromium_executable()
        if executable is None:
            raise RuntimeError("no Chromium found (set IMHUB_CHROMIUM or install one)")
        self._browser = await self._pw.chromium.launch(
            executable_path=executable, headless=self.headless, args=chromium_launch_args()
        )
        self.launches += 1
        logger.info("chromium launched (%s, launch %d)", executable, self.launches)
        return self._browser

    async def context_get(self, *, account_id: int) -> BrowserContext:
        """The account's context, created from its stored state when missing (or after a relaunch)."""
        async with self._lock:
            browser = await self._browser_ensure()
            context = self._contexts.get(account_id)
            if context is not None:
                return context
            options = account_fingerprint(account_id=account_id)
            state = self.storage_state_load(account_id)
            if state is not None:
                options["storage_state"] = state
            context = await browser.new_context(**options)
            self._contexts[account_id] = context
            return context

    async def context_save(self, *, account_id: int) -> dict[str, Any] | None:
        """Persist the context's current storage state; returns it (never logged)."""
        context = self._contexts.get(account_id)
        if context is None:
            return None
        state = await context.storage_state()
        self.storage_state_store(account_id, dict(state))
        return dict(state)

    async def context_close(self, *, account_id: int) -> None:
        context = self._contexts.pop(account_id, None)
        if context is not None:
            try:
                await context.close()
            except Exception as exc:  # a dead browser: nothing left to close
                logger.warning("closing the context of account %s failed: %s", account_id, exc)

    async def close(self) -> None:
        for account_id in list(self._contexts):
            await self.context_close(account_id=account_id)
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception as exc:
                logger.warning("closing chromium failed: %s", exc)
        if self._pw is not None:
            await self._pw.stop()
        self._browser = None
        self._pw = None

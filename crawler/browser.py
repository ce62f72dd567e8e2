"""Browser pool: one Chromium per worker, one context per account, relaunched when the browser dies.

Each account's context has its own cookies/storage (persisted as Playwright storage state under the
data dir) and a consistent fingerprint derived from the account id: zh-CN, Asia/Shanghai, a real
desktop Chrome UA, a fixed viewport. Pages are opened per task and closed after it, so an idle account
costs a context, not a renderer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
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

    def __init__(self, *, data_dir: Path, headless: bool = True, state_key: str = "") -> None:
        self.data_dir = data_dir
        self.headless = headless
        self.state_key = state_key
        self._fernet: Fernet | None = None
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._contexts: dict[int, BrowserContext] = {}
        self._lock = asyncio.Lock()
        self.launches = 0

    def state_path(self, account_id: int) -> Path:
        return self.data_dir / "accounts" / f"{account_id}.state.json"

    def _state_fernet(self) -> Fernet:
        """The worker-side key of the storage state at rest: `state_key` (IMHUB_WORKER_STATE_KEY), else
        one generated once into `<data dir>/keys/state.key` (0600)."""
        if self._fernet is None:
            secret = self.state_key
            if not secret:
                folder = self.data_dir / "keys"
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                path = folder / "state.key"
                if not path.exists():
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as handle:
                        handle.write(base64.urlsafe_b64encode(os.urandom(32)).decode())
                secret = path.read_text().strip()
            digest = hashlib.sha256(f"imhub-worker-state:{secret}".encode()).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        return self._fernet

    def storage_state_load(self, account_id: int) -> dict[str, Any] | None:
        """The account's storage state (decrypted); a plain JSON file of an older worker is read and
        written back encrypted; one no key decrypts counts as none (the hub's copy is used)."""
        path = self.state_path(account_id)
        if not path.exists():
            return None
        raw = path.read_bytes()
        if raw.lstrip().startswith(b"{"):  # an older worker's plain file: encrypt it now
            state: dict[str, Any] = json.loads(raw)
            self.storage_state_store(account_id, state)
            return state
        try:
            return json.loads(self._state_fernet().decrypt(raw))
        except (InvalidToken, ValueError):
            logger.warning(
                "the stored state of account %s cannot be decrypted with this worker's key", account_id
            )
            return None

    def storage_state_store(self, account_id: int, state: dict[str, Any] | None) -> None:
        """Store the state encrypted (Fernet, worker-side key), 0600, replaced atomically."""
        path = self.state_path(account_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if state is None:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self._state_fernet().encrypt(json.dumps(state).encode()))
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

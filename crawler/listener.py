"""Push listening: one resident page per logged-in account that hands out what the platform pushes.

A `Listener` belongs to an account's runner. Once a crawl has shown the account logged in, the runner
calls `ensure()`: when the worker's budget of resident pages (`ResidentPages`, LRU by activity) has room,
the adapter opens its listening page (`listen_open`) and every pushed message goes through the data
manager (dedupe by id) into the outbox and to the hub at once, as a small sync frame. A comment notice
makes the runner read the noticed works' comments at once (`notice_read`).

A page without the store but with its IM socket listens as a frame tap: each frame makes the runner
read the changed conversations at once (`chat_wake`), and the missing store stays a surface-change note.

Health: the page's hook heartbeats; a watchdog re-installs the page when it closed, crashed or went
silent (state `reinstalling`). When no store can be found the adapter raises SurfaceChanged: the runner
shows the drift note (with its sample) and the account keeps polling (`polling`), trying again later
with the surface backoff. States: `listening`, `polling`, `reinstalling` ("" before the first try).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from crawler.datamanager import data_submit
from crawler.errors import LoginExpired, RiskDetected, SurfaceChanged, error_text
from crawler.platforms import DriftNote, ListeningAdapter

if TYPE_CHECKING:
    from crawler.runner import AccountRunner

logger = logging.getLogger("crawler.listener")

BEAT_TIMEOUT = 20.0  # seconds without a heartbeat before the page is re-installed
WATCH_EVERY = 2.0
RETRY_BASE, RETRY_CAP = 30.0, 1800.0  # after a failed install: 30 s doubling to 30 min


class ResidentPages:
    """The worker's bound on resident listening pages; the least recently active one makes room."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.holders: dict[int, Listener] = {}

    def admit(self, listener: Listener) -> Listener | bool | None:
        """True when `listener` may hold a page (or already does); else the listener to evict (or
        False when listening is off)."""
        if self.limit <= 0:
            return False
        if listener.account_id in self.holders or len(self.holders) < self.limit:
            self.holders[listener.account_id] = listener
            return True
        victim = min(self.holders.values(), key=lambda item: item.last_activity)
        if victim.last_activity >= listener.last_activity:
            return False  # everyone holding a page is at least as active: this one keeps polling
        return victim

    def release(self, listener: Listener) -> None:
        if self.holders.get(listener.account_id) is listener:
            del self.holders[listener.account_id]


class Listener:
    """The resident page of one account (see the module docstring)."""

    def __init__(self, runner: AccountRunner, resident: ResidentPages) -> None:
        self.runner = runner
        self.adapter: ListeningAdapter = runner.adapter  # type: ignore[assignment]  # checked by the worker
        self.resident = resident
        self.state = ""
        self.where = ""  # which page/locator held the store
        self.page: Any = None
        self.watch: asyncio.Task[None] | None = None
        self.last_beat = 0.0
        # LRU order: the latest message or notice pushed, or new messages/comments a crawl found (0:
        # none yet, so a newcomer never takes the page of an account that already holds one)
        self.last_activity = 0.0
        self.installs = 0
        self.installed_at = 0.0
        self.failures = 0
        self.retry_at = 0.0
        self.pushed = 0  # records queued from pushes
        self.drift: list[DriftNote] = []
        self.note: SurfaceChanged | None = None  # why the store could not be found (shown by the runner)
        self.lock = asyncio.Lock()
        self.lost = ""  # set when the page crashed or navigated away (the hook is gone)

    @property
    def account_id(self) -> int:
        return self.runner.account_id

    @property
    def alive(self) -> bool:
        return self.page is not None and not self.page.is_closed()

    async def ensure(self) -> None:
        """Install the page when it is missing and allowed (budget, retry time); never raises."""
        if self.alive or time.time() < self.retry_at:
            return
        verdict = self.resident.admit(self)
        if verdict is False:
            await self._state("polling")
            return
        if isinstance(verdict, Listener):
            logger.info("%s resident page handed over to %s", verdict.runner.tag, self.runner.tag)
            await verdict.close(state="polling")
            self.resident.admit(self)
        await self.install()

    async def install(self) -> None:
        async with self.lock:
            if self.alive:
                return
            try:
                context = await self.runner.pool.context_get(account_id=self.account_id)
                known = list(self.runner.manager.known("messages"))
                page, where, note = await self.adapter.listen_open(
                    context=context, emit=self.on_event, known=known
                )
            except asyncio.CancelledError:
                raise
            except SurfaceChanged as exc:
                self.note = exc
                self._retry_later()
                self.resident.release(self)
                logger.error("%s listener: %s; polling instead", self.runner.tag, exc.message)
                await self._state("polling")
                return
            except (LoginExpired, RiskDetected) as exc:
                self._retry_later()
                self.resident.release(self)
                logger.warning("%s listener not installed: %s", self.runner.tag, exc.message)
                await self._state("polling")
                return
            except Exception as exc:
                self._retry_later()
                self.resident.release(self)
                logger.warning("%s listener install failed: %s", self.runner.tag, error_text(exc))
                await self._state("polling")
                return
            if self.resident.holders.get(self.account_id) is not self:
                # a more active account took the page while this one was being installed
                await page.close()
                logger.info("%s resident page taken during its install; polling", self.runner.tag)
                await self._state("polling")
                return
            self.page, self.where = page, where
            self.lost = ""
            page.on("crash", lambda _page: self._lose("page crashed"))
            page.on(
                "framenavigated",
                lambda frame: self._lose("page navigated") if frame == page.main_frame else None,
            )
            self.note = note  # set when only the socket's frames are tapped (no store)
            self.failures = 0
            self.installs += 1
            self.installed_at = self.last_beat = time.time()
            if self.watch is None or self.watch.done():
                self.watch = asyncio.create_task(self._watch(), name=f"listener-{self.account_id}")
            logger.info("%s listening (%s), install %d", self.runner.tag, where, self.installs)
            await self._state("listening")

    def _retry_later(self) -> None:
        self.failures += 1
        self.retry_at = time.time() + min(RETRY_CAP, RETRY_BASE * 2 ** (self.failures - 1))

    async def _state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            await self.runner.report_soon()

    def _lose(self, why: str) -> None:
        self.lost = self.lost or why

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            if self.page is None:
                return
            silent = time.time() - self.last_beat
            if not self.page.is_closed() and silent < BEAT_TIMEOUT and not self.lost:
                continue
            if self.lost == "page navigated" and not self.page.is_closed() and silent < BEAT_TIMEOUT:
                try:  # a same-document navigation (history API) keeps the hook
                    if await self.page.evaluate("() => !!window.__imhubListenInstalled"):
                        self.lost = ""
                        continue
                except Exception:
                    logger.debug("listener page check failed", exc_info=True)
            why = self.lost or ("page closed" if self.page.is_closed() else f"no heartbeat for {silent:.0f}s")
            logger.warning("%s listener lost (%s); re-installing", self.runner.tag, why)
            await self._drop_page()
            if self.runner.login_status != "logged_in":
                await self._state("polling")
                self.resident.release(self)
                return
            await self._state("reinstalling")
            await self.install()
            if not self.alive:
                return

    async def _drop_page(self) -> None:
        page, self.page = self.page, None
        if page is not None and not page.is_closed():
            try:
                await page.close()
            except Exception:
                logger.debug("closing a lost listener page failed", exc_info=True)

    async def close(self, *, state: str = "") -> None:
        if self.watch is not None:
            self.watch.cancel()
            self.watch = None
        await self._drop_page()
        self.resident.release(self)
        await self._state(state)

    async def on_event(self, event: Any) -> None:
        """What the page's hook hands out: `beat`, `message`, `notice` (never raises into the page)."""
        try:
            if not isinstance(event, dict):
                return
            kind = event.get("kind")
            self.last_beat = time.time()
            if kind == "message":
                self.last_activity = time.time()
                queued = 0
                for entity_kind, records in self.adapter.listen_batches(event, self.drift):
                    queued += data_submit(manager=self.runner.manager, kind=entity_kind, records=records)
                if queued:
                    self.pushed += queued
                    self.runner.items_sent += queued
                    await self.runner.host.outbox_pump(self.account_id)
            elif kind == "notice":
                self.last_activity = time.time()
                self.runner.notice_read(event)
            elif kind == "frame":  # the page's IM socket received something: read the chat now
                self.last_activity = time.time()
                self.runner.chat_wake()
        except Exception:
            logger.exception("%s listener event failed", self.runner.tag)

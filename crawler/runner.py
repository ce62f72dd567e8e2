"""Per-account runner (docs/architecture.md, "Runner"): login check, jittered crawl interval, backoff classes.

- transient errors (anything unexpected): exponential backoff with jitter, reported with the message;
- login expired: report `expired` and stop crawling until a login succeeds or a new state arrives;
- risk (verification pages, empty bodies, risk codes and HTTP statuses, status 8 without a login
  signal, a reply the platform refused with a risk signal): a longer cool-down, a hold: no crawl and
  no reply until it ends (`hold_start`), reported as `cooldown`, never as expired;
- the platform's surface changed (a page loaded but no known response or element came, or a response
  did not parse): `surface_changed`, naming the locator or field, with a sample saved under the
  worker's data dir (secrets stripped), retried with its own backoff. Records that did not parse are
  skipped (the rest of their page goes on) and turn the status `surface_changed` after that crawl.
An error in one account never leaves its runner: it is logged with the account id and platform,
counted, reported to the hub, and retried; other accounts and the worker go on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from crawler.browser import BrowserPool
from crawler.datamanager import DataManager, data_submit
from crawler.drift import sample_save
from crawler.errors import LoginExpired, RiskDetected, SurfaceChanged, error_text
from crawler.listener import Listener
from crawler.platforms import Batch, DriftNote, PlatformAdapter, memory_for
from datasync.protocol import AssignmentAccount, Profile

logger = logging.getLogger("crawler.runner")

TRANSIENT_BASE, TRANSIENT_CAP = 2.0, 300.0
CHAT_WAKE_DELAY = 0.3  # s after an IM socket frame before the chat read (a burst makes one read)
RISK_BASE, RISK_CAP = 60.0, 1800.0
SURFACE_BASE, SURFACE_CAP = 30.0, 1800.0
BACKOFF = {
    "transient": (TRANSIENT_BASE, TRANSIENT_CAP),
    "risk": (RISK_BASE, RISK_CAP),
    "surface": (SURFACE_BASE, SURFACE_CAP),
}


def jitter(seconds: float, *, spread: float = 0.2) -> float:
    return seconds * random.uniform(1 - spread, 1 + spread)


def backoff_seconds(*, kind: str, failures: int) -> float:
    """Delay before the next attempt after `failures` consecutive failures of one class."""
    base, cap = BACKOFF.get(kind, BACKOFF["transient"])
    return min(cap, base * 2 ** max(0, failures - 1))


class RunnerHost(Protocol):
    """What a runner needs from the worker: status reports and outbox flushes."""

    async def account_status_send(self, runner: AccountRunner) -> None: ...

    async def outbox_pump(self, account_id: int) -> None: ...


class AccountRunner:
    """Crawls one account forever (until stopped); state is readable for status and heartbeats."""

    def __init__(
        self,
        *,
        account: AssignmentAccount,
        epoch: int,
        pool: BrowserPool,
        adapter: PlatformAdapter,
        manager: DataManager,
        host: RunnerHost,
        slots: asyncio.Semaphore | None = None,
        data_dir: Path | None = None,
        reconcile_interval: float = 1800.0,
        listen_crawl_interval: float = 0.0,
    ) -> None:
        self.account = account
        self.epoch = epoch
        self.pool = pool
        self.adapter = adapter
        self.manager = manager
        self.host = host
        self.slots = slots  # shared by the worker's runners: how many accounts crawl at once
        self.data_dir = data_dir  # drift samples go under <data_dir>/surface/
        self.records_skipped = 0
        self.drift: list[DriftNote] = []  # what the last crawl skipped
        self.memory = memory_for(adapter)  # per-account crawl memory, owned by the adapter
        self.login_status = "unknown"
        self.runner_status = "starting"
        self.last_error = ""
        self.error_count = 0
        self.next_run_at: int | None = None
        self.items_sent = 0
        self.crawls = 0
        self.had_state = False
        self.profile: Profile | None = None
        self.failures = {"transient": 0, "risk": 0, "surface": 0}
        self.hold_until = 0.0  # epoch s: no crawl and no reply before this (a risk signal's cool-down)
        self.hold_reason = ""
        self.wake = asyncio.Event()
        self.busy = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        # Push listening (crawler/listener.py): set by the worker when listening is on.
        self.listener: Listener | None = None
        self.reconcile_interval = reconcile_interval  # s between full walks while listening
        self.listen_crawl_interval = listen_crawl_interval  # s between crawls at least, while listening
        self.last_full_walk = 0.0  # 0: the next crawl walks everything (start, resync)
        self.notice_task: asyncio.Task[None] | None = None
        self.notice_pending: dict[str, Any] | None = None
        self.chat_task: asyncio.Task[None] | None = None  # a chat read woken by IM socket frames
        self.chat_pending = False
        self.listener_note_shown: object = None
        self.hub_refusing = ""  # set by the worker while the hub refuses this account's frames

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def tag(self) -> str:
        return f"[account {self.account.id} {self.account.platform}]"

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"runner-{self.account_id}")

    async def stop(self) -> None:
        if self.task is not None:
            # Cancel until it is done: Python 3.11's wait_for can swallow a cancel that arrives as the
            # wake event fires, and the runner would then sleep a whole interval.
            while not self.task.done():
                self.task.cancel()
                await asyncio.wait({self.task}, timeout=1.0)
            if not self.task.cancelled() and self.task.exception() is not None:
                logger.debug("%s runner ended with %r", self.tag, self.task.exception())
        for task in (self.notice_task, self.chat_task):
            if task is not None:
                task.cancel()
        if self.listener is not None:
            await self.listener.close(state="")
        self.runner_status = "stopped"

    def wake_now(self) -> None:
        self.wake.set()

    def on_hold(self) -> str:
        """Why the account is cooling down after a risk signal ("" when it is not)."""
        return self.hold_reason if time.time() < self.hold_until else ""

    def hold_start(self, message: str) -> float:
        """A risk signal: cool down (60 s doubling to 30 min, jittered); returns the delay. Until it
        ends the runner neither crawls nor posts; the status says `cooldown` with the reason."""
        self.failures["risk"] += 1
        delay = jitter(backoff_seconds(kind="risk", failures=self.failures["risk"]))
        self.hold_until = time.time() + delay
        self.hold_reason = f"risk: {message}"
        self.runner_status = "cooldown"
        self.last_error = self.hold_reason
        self.next_run_at = int(self.hold_until * 1000)
        self.error_count += 1
        logger.warning("%s %s; cooling down %.0fs", self.tag, self.last_error, delay)
        return delay

    async def risk_hold(self, message: str) -> None:
        """`hold_start` from outside the crawl loop (a refused reply), reported at once."""
        self.hold_start(message)
        await self._report()

    async def hold_wait(self) -> None:
        """Sleep out a hold (a wake-up does not end it; stopping the runner does)."""
        while (remaining := self.hold_until - time.time()) > 0:
            await asyncio.sleep(remaining)

    async def _report(self) -> None:
        try:
            await self.host.account_status_send(self)
        except Exception:
            logger.exception("%s status report failed", self.tag)

    async def crawl_once(self) -> int:
        """One login check + crawl; returns how many records were queued for the hub."""
        self.had_state = self.pool.storage_state_load(self.account_id) is not None
        context = await self.pool.context_get(account_id=self.account_id)
        self.profile = await self.adapter.login_check(context=context)
        self.login_status = "logged_in"
        if self.runner_status != "surface_changed":  # the alarm stays up until a clean crawl
            self.runner_status = "crawling"
        await self._report()
        if self.listener is not None:
            # Before the walk, so a message that comes during it is pushed or walked, never missed.
            await self.listener.ensure()
        listening = self.listener is not None and self.listener.alive
        walk_due = time.time() - self.last_full_walk >= self.reconcile_interval
        self.memory.pushed_kinds = {"messages", "conversations"} if listening and not walk_due else set()
        self.memory.reconcile = walk_due  # incremental reads read everything this time
        self.memory_known_refresh()
        # a crawl that finds new messages or comments is activity too (not the first crawl: that is
        # history): a polling account can take an idler one's page
        queued = await self._submit_all(
            self.adapter.crawl(context=context, memory=self.memory), activity=self.crawls > 0
        )
        self.manager.snapshot_pending = False
        self.crawls += 1
        if walk_due:
            self.last_full_walk = time.time()
        self.drift = self.memory.drift_take()
        if self.listener is not None:
            self.drift += self.listener.drift
            self.listener.drift = []
        self.records_skipped += len(self.drift)
        return queued

    async def _submit_all(self, reading: AsyncIterator[Batch], *, activity: bool = False) -> int:
        """Queue each batch's new or changed records and flush them to the hub as they come; returns
        how many. `activity`: new messages or comments count as the listener's activity (LRU)."""
        queued = 0
        async for kind, records in reading:
            changed = data_submit(manager=self.manager, kind=kind, records=records)
            if changed:
                queued += changed
                await self.host.outbox_pump(self.account_id)
                if activity and self.listener is not None and kind in ("messages", "comments"):
                    self.listener.last_activity = time.time()
        return queued

    def crawl_interval(self) -> float:
        """Seconds to the next periodic crawl: the account's interval, stretched to
        `listen_crawl_interval` while its listener is up (push and notices bring the data)."""
        interval = float(self.account.monitor_interval)
        if self.listener is not None and self.listener.alive and self.listener.state == "listening":
            interval = max(interval, self.listen_crawl_interval)
        return interval

    def memory_known_refresh(self) -> None:
        """What the worker delivered, for the incremental reads (they stop at these ids)."""
        self.memory.known_ids = {
            "messages": set(self.manager.known("messages")),
            "comments": set(self.manager.known("comments")),
        }

    async def report_soon(self) -> None:
        """A status report now (the listener's state changed)."""
        await self._report()

    def notice_read(self, event: dict[str, Any]) -> None:
        """A comment notice from the listener: read the noticed works' comments now (one at a time;
        a notice that comes meanwhile is read after)."""
        if self.notice_task is not None and not self.notice_task.done():
            self.notice_pending = event
            return
        self.notice_task = asyncio.create_task(self._notice_run(event), name=f"notice-{self.account_id}")

    async def _notice_run(self, event: dict[str, Any]) -> None:
        while True:
            try:
                await self._notice_read(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s notice read failed (%s); crawling instead", self.tag, error_text(exc))
                self.wake_now()
            if self.notice_pending is None:
                return
            event, self.notice_pending = self.notice_pending, None

    def chat_wake(self) -> None:
        """A frame on the page's IM socket (a listener without the store): read the changed
        conversations now; frames that come meanwhile make one more read after it."""
        self.chat_pending = True
        if self.chat_task is None or self.chat_task.done():
            self.chat_task = asyncio.create_task(self._chat_run(), name=f"chat-{self.account_id}")

    async def _chat_run(self) -> None:
        while self.chat_pending:
            self.chat_pending = False
            await asyncio.sleep(CHAT_WAKE_DELAY)  # the frames of one burst make one read
            try:
                await self._chat_read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s chat read failed (%s); crawling instead", self.tag, error_text(exc))
                self.wake_now()

    async def _chat_read(self) -> None:
        if self.listener is None or self.on_hold() or not hasattr(self.adapter, "chat_read"):
            return
        async with self.busy:
            context = await self.pool.context_get(account_id=self.account_id)
            self.memory_known_refresh()
            queued = await self._submit_all(self.adapter.chat_read(context=context, memory=self.memory))
            self.items_sent += queued
            logger.info("%s IM socket frame: chat read, %d records", self.tag, queued)

    async def _notice_read(self, event: dict[str, Any]) -> None:
        if self.listener is None:
            return
        adapter = self.listener.adapter
        notices = adapter.listen_notices(event, self.memory.drift)
        if notices is None:  # no notice list to read: an incremental crawl finds the changed works
            self.wake_now()
            return
        known = set(self.manager.known("notifications"))
        installed_ms = int(self.listener.installed_at * 1000) - 120_000
        fresh = [n for n in notices if n.notification_id not in known and n.created_at >= installed_ms]
        if data_submit(manager=self.manager, kind="notifications", records=notices):
            await self.host.outbox_pump(self.account_id)
        works = list(dict.fromkeys(n.related_content_id for n in fresh if n.related_content_id))
        if not works or self.on_hold():
            return
        expect: dict[str, set[str]] = {}
        for n in fresh:
            if n.related_content_id and n.related_comment_id:
                expect.setdefault(n.related_content_id, set()).add(n.related_comment_id)
        async with self.busy:
            context = await self.pool.context_get(account_id=self.account_id)
            self.memory_known_refresh()
            queued = await self._submit_all(
                adapter.comments_read(context=context, content_ids=works, memory=self.memory, expect=expect)
            )
            self.items_sent += queued
            logger.info("%s comment notice: %d work(s) read, %d records", self.tag, len(works), queued)

    def sample_keep(self, *, locator: str, message: str, sample: object) -> str:
        """Save a drift sample; returns where (or why not), for the status message."""
        if self.data_dir is None:
            return "no data dir"
        try:
            path = sample_save(
                data_dir=self.data_dir,
                account_id=self.account_id,
                locator=locator,
                message=message,
                sample=sample,
            )
        except OSError as exc:
            logger.error("%s could not save a drift sample: %s", self.tag, exc)
            return f"not saved: {exc}"
        return str(path.relative_to(self.data_dir))

    def drift_message(self, notes: Sequence[DriftNote]) -> str:
        """`surface changed: N record(s) skipped: <locator>: <why> (sample: <path>)` for the status."""
        first = notes[0]
        where = self.sample_keep(locator=first.locator, message=first.message, sample=first.sample)
        fields = sorted({n.locator.split("[")[0] for n in notes})
        return (
            f"surface changed: {len(notes)} record(s) skipped ({', '.join(fields)}); "
            f"first {first.locator}: {first.message} (sample: {where})"
        )

    async def run(self) -> None:
        failures = self.failures
        while True:
            await self.hold_wait()
            self.wake.clear()
            delay: float | None
            async with self.busy:
                started = time.monotonic()
                try:
                    if self.runner_status != "surface_changed":
                        self.runner_status = "running"
                    if self.slots is not None:
                        async with self.slots:
                            queued = await self.crawl_once()
                    else:
                        queued = await self.crawl_once()
                    self.items_sent += queued
                    self.last_error = self.hub_refusing  # "" unless the hub refuses our frames
                    self.runner_status = "idle"
                    delay = jitter(self.crawl_interval())
                    if self.on_hold():  # a reply met a risk signal during this crawl
                        self.runner_status, self.last_error = "cooldown", self.hold_reason
                        delay = max(delay, self.hold_until - time.time())
                    else:
                        failures.update(transient=0, risk=0, surface=0)
                    note = self.listener.note if self.listener is not None else None
                    if note is not None and not self.drift:
                        # No store to hook: the account polls; the alarm names the locator and sample.
                        self.runner_status = "surface_changed"
                        if self.listener_note_shown is not note:
                            self.listener_note_shown = note
                            where = self.sample_keep(
                                locator=note.locator, message=note.message, sample=note.sample
                            )
                            how = (
                                "messages are read when the page's IM socket receives a frame"
                                if self.listener is not None and self.listener.alive
                                else "messages are polled"
                            )
                            self.last_error = (
                                f"surface changed: {note.locator}: {note.message} (sample: {where}); {how}"
                            )
                            self.error_count += 1
                            logger.error("%s %s", self.tag, self.last_error)
                        else:
                            self.last_error = self.last_error or f"surface changed: {note.locator}"
                    if self.drift:
                        # The crawl went on without them; the drift stays visible until a clean crawl.
                        self.runner_status = "surface_changed"
                        self.last_error = self.drift_message(self.drift)
                        self.error_count += 1
                        logger.error("%s %s", self.tag, self.last_error)
                    logger.info(
                        "%s crawl %d done in %.1fs: %d new or changed records",
                        self.tag,
                        self.crawls,
                        time.monotonic() - started,
                        queued,
                    )
                except asyncio.CancelledError:
                    raise
                except LoginExpired as exc:
                    # Never logged in on this worker: not_logged_in; a session that ended: expired.
                    self.login_status = "expired" if self.had_state else "not_logged_in"
                    self.runner_status = "stopped"
                    prefix = "login expired" if self.had_state else "not logged in"
                    self.last_error = f"{prefix}: {exc.message}"
                    self.error_count += 1
                    delay = None
                    logger.warning("%s %s; crawling stops until a new login", self.tag, self.last_error)
                except SurfaceChanged as exc:
                    failures["surface"] += 1
                    self.runner_status = "surface_changed"
                    where = self.sample_keep(locator=exc.locator, message=exc.message, sample=exc.sample)
                    self.last_error = f"surface changed: {exc.locator}: {exc.message} (sample: {where})"
                    self.error_count += 1
                    delay = jitter(backoff_seconds(kind="surface", failures=failures["surface"]))
                    logger.error("%s %s; retrying in %.0fs", self.tag, self.last_error, delay)
                    await self.pool.context_close(account_id=self.account_id)
                except RiskDetected as exc:
                    delay = self.hold_start(exc.message)
                except Exception as exc:
                    failures["transient"] += 1
                    self.runner_status = "backoff"
                    message = error_text(exc)
                    self.last_error = f"{type(exc).__name__}: {message}"
                    self.error_count += 1
                    delay = jitter(backoff_seconds(kind="transient", failures=failures["transient"]))
                    logger.error(
                        "%s crawl failed (attempt %d), retrying in %.1fs: %s",
                        self.tag,
                        failures["transient"],
                        delay,
                        self.last_error,
                    )
                    await self.pool.context_close(account_id=self.account_id)
            self.next_run_at = None if delay is None else int((time.time() + delay) * 1000)
            await self._report()
            try:
                if delay is None:
                    await self.wake.wait()
                else:
                    await asyncio.wait_for(self.wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def login_run(self, *, session_id: str, send: Callable[..., Awaitable[None]]) -> None:
        """QR login in a fresh context; on success the new state is stored and crawling resumes."""
        async with self.busy:
            self.login_status = "logging_in"
            self.runner_status = "idle"
            await self._report()
            await self.pool.context_close(account_id=self.account_id)
            self.pool.storage_state_store(self.account_id, None)
            try:
                context = await self.pool.context_get(account_id=self.account_id)
                profile = await self.adapter.login_run(context=context, report=send)
                state = await self.pool.context_save(account_id=self.account_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                code = getattr(exc, "code", "")
                message = error_text(exc)
                self.login_status = "not_logged_in"
                self.last_error = f"login failed: {message}"
                logger.error("%s QR login failed: %s", self.tag, message)
                await send(status="timeout" if code == "timeout" else "failed", message=message)
                await self._report()
                return
            self.profile = profile
            self.login_status = "logged_in"
            self.last_error = ""
            logger.info("%s QR login succeeded", self.tag)
            await send(status="success", storage_state=state, profile=profile)
        self.wake_now()

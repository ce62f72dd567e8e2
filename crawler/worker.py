"""The crawler worker: hub connection, registration, command dispatch by frame type, heartbeats.

Frames from the hub go to one handler per type (`HANDLERS`). Sync data flows runner -> data manager ->
durable outbox -> `outbox_pump`, which sends unacked frames in seq order within a bounded window;
acks delete them. After a reconnect the register ack's assignments (with the hub's `last_seq`) realign
each outbox and everything unacked is sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from crawler.browser import BrowserPool
from crawler.client import HubClient
from crawler.datamanager import DataManager
from crawler.errors import CrawlError, ReplyFailed, ReplyThrottled, ReplyUnknown, RiskDetected, error_text
from crawler.listener import Listener, ResidentPages
from crawler.outbox import Outbox, outbox_ack, outbox_align, outbox_open
from crawler.platforms import ReplyJob, adapter_get, record_platform_id
from crawler.replyjournal import (
    DONE,
    POSTING,
    RECEIVED,
    JournalEntry,
    journal_done,
    journal_entries,
    journal_forget,
    journal_posting,
    journal_received,
)
from crawler.runner import AccountRunner
from crawler.stats import memory_tree_bytes
from datasync.protocol import (
    AccountStatusFrame,
    Assignment,
    BaseFrame,
    Comment,
    DataSyncAckPayload,
    DataSyncFrame,
    ErrorPayload,
    HeartbeatFrame,
    LoginStartPayload,
    LoginStatusFrame,
    Message,
    RegisterAckPayload,
    RegisterFrame,
    ReplyRequestPayload,
    ReplyResultFrame,
    ResyncPayload,
    TaskAssignPayload,
    TaskRevokePayload,
)

PROOF_SLACK_MS = 60_000  # the platform's clock and this worker's may differ by this much

logger = logging.getLogger("crawler.worker")

VERSION = "0.1.0"
SEND_WINDOW = 8  # unacked sync frames in flight per account
# Refusals that say "not now" (the hub's database or disk failed): the frame is resent after a backoff
# on the same connection; any other refusal is about the frame and is only logged.
RETRYABLE_CODES = frozenset({"internal_error"})
RESEND_BASE, RESEND_CAP = 1.0, 60.0


class Worker:
    """One worker process: a hub client, a browser pool and a runner per assigned account."""

    def __init__(
        self,
        *,
        worker_id: str,
        hub_url: str,
        token: str,
        data_dir: Path,
        headless: bool = True,
        max_accounts: int = 20,
        platforms: tuple[str, ...] = ("douyin",),
        pool: BrowserPool | None = None,
        max_concurrent_crawls: int = 4,
        listen_pages: int = 0,
        reconcile_interval: float = 1800.0,
        listen_crawl_interval: float = 0.0,
    ) -> None:
        self.worker_id = worker_id
        self.data_dir = data_dir
        self.max_accounts = max_accounts
        self.platforms = platforms
        self.pool = pool or BrowserPool(data_dir=data_dir, headless=headless)
        self.client = HubClient(
            hub_url=hub_url,
            token=token,
            on_frame=self.frame_dispatch,
            on_connect=self.on_connect,
            on_disconnect=self.on_disconnect,
        )
        self.runners: dict[int, AccountRunner] = {}
        # Bounds the open pages (renderers) and CPU: the rest wait their turn.
        self.crawl_slots = asyncio.Semaphore(max_concurrent_crawls)
        self.outboxes: dict[int, Outbox] = {}
        # Push listening: at most `listen_pages` resident pages (LRU by activity); 0 = poll only.
        self.resident = ResidentPages(listen_pages)
        self.reconcile_interval = reconcile_interval
        self.listen_crawl_interval = listen_crawl_interval
        self.sent_upto: dict[int, int] = {}
        self.heartbeat_interval = 10.0
        self.registered = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.counters = {"frames_sent": 0, "frames_acked": 0, "errors": 0, "replies": 0}
        self.replies_active: set[str] = set()  # reply ids this process is working on (not to settle)
        self.sync_refs: dict[str, tuple[int, int]] = {}  # sent sync frame id -> (account, seq)
        self.refusals: dict[int, int] = {}  # account -> consecutive retryable refusals
        self.resends: dict[int, asyncio.Task[None]] = {}  # account -> its scheduled resend

    # ---- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        heartbeat = asyncio.create_task(self.heartbeat_loop())
        try:
            await self.client.run()
        finally:
            heartbeat.cancel()
            await self.shutdown()

    async def shutdown(self) -> None:
        for runner in list(self.runners.values()):
            await runner.stop()
        for task in list(self.tasks):
            task.cancel()
        await self.pool.close()
        for outbox in self.outboxes.values():
            outbox.close()

    def spawn(self, coro: Any, *, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def on_connect(self) -> None:
        self.registered.clear()
        await self.client.send(
            RegisterFrame.build(
                worker_id=self.worker_id,
                version=VERSION,
                capabilities=list(self.platforms),
                max_accounts=self.max_accounts,
                host=socket.gethostname(),
            )
        )

    async def on_disconnect(self) -> None:
        self.registered.clear()
        self.sync_refs.clear()  # everything unacked is resent after the next register anyway
        for task in self.resends.values():
            task.cancel()
        self.resends.clear()
        logger.warning("disconnected from the hub; unacked sync frames will be resent")

    # ---- dispatch ------------------------------------------------------------------------------

    async def frame_dispatch(self, frame: BaseFrame) -> None:
        frame_type = frame.type  # type: ignore[attr-defined]
        handler = HANDLERS.get(frame_type)
        if handler is None:
            logger.warning("no handler for hub frame %s", frame_type)
            return
        await handler(self, frame.payload)

    async def on_register_ack(self, payload: RegisterAckPayload) -> None:
        self.heartbeat_interval = payload.heartbeat_interval
        held = {a.account.id for a in payload.assignments}
        for account_id in [a for a in self.runners if a not in held]:
            await self.account_release(account_id)
        for assignment in payload.assignments:
            await self.assignment_apply(assignment)
        self.registered.set()
        logger.info("registered as %s with %d accounts", self.worker_id, len(payload.assignments))
        for account_id in list(self.runners):
            await self.outbox_pump(account_id)  # resend everything unacked, in seq order
            await self.replies_settle(account_id)

    async def on_assign(self, payload: TaskAssignPayload) -> None:
        await self.assignment_apply(payload.assignment)

    async def on_revoke(self, payload: TaskRevokePayload) -> None:
        runner = self.runners.get(payload.account_id)
        if runner is not None and payload.epoch >= runner.epoch:
            logger.info("%s revoked (epoch %d)", runner.tag, payload.epoch)
            await self.account_release(payload.account_id)

    async def on_login_start(self, payload: LoginStartPayload) -> None:
        self.spawn(
            self.login_handle(payload.session_id, payload.account_id), name=f"login-{payload.account_id}"
        )

    async def on_reply_request(self, payload: ReplyRequestPayload) -> None:
        self.spawn(self.reply_handle(payload), name=f"reply-{payload.reply_id}")

    async def on_resync(self, payload: ResyncPayload) -> None:
        runner = self.runners.get(payload.account_id)
        if runner is None:
            return
        logger.info("%s resync requested: next crawl sends everything", runner.tag)
        runner.manager.forget()
        runner.memory.forget()
        runner.last_full_walk = 0.0  # the next crawl walks everything, listening or not
        runner.wake_now()

    async def on_sync_ack(self, payload: DataSyncAckPayload) -> None:
        outbox = self.outboxes.get(payload.account_id)
        if outbox is None:
            return
        outbox_ack(outbox=outbox, seq=payload.seq)
        self.counters["frames_acked"] += 1
        self.sent_upto[payload.account_id] = max(self.sent_upto.get(payload.account_id, 0), payload.seq)
        self.sync_refs = {
            ref: where
            for ref, where in self.sync_refs.items()
            if where[0] != payload.account_id or where[1] > payload.seq
        }
        if self.refusals.pop(payload.account_id, 0):
            runner = self.runners.get(payload.account_id)
            if runner is not None and runner.hub_refusing:
                if runner.last_error == runner.hub_refusing:
                    runner.last_error = ""
                runner.hub_refusing = ""
                logger.info("%s the hub takes sync frames again", runner.tag)
                await self.account_status_send(runner)
        await self.outbox_pump(payload.account_id)

    async def on_error(self, payload: ErrorPayload) -> None:
        self.counters["errors"] += 1
        logger.error("hub refused frame %s: %s %s", payload.ref, payload.code, payload.message)
        where = self.sync_refs.pop(payload.ref, None) if payload.ref else None
        if where is None or payload.code not in RETRYABLE_CODES:
            return
        account_id, seq = where
        # Everything from this frame on is sent again (the later ones were refused too, or will be
        # answered seq_gap): after a backoff, on this connection.
        self.sent_upto[account_id] = min(self.sent_upto.get(account_id, seq - 1), seq - 1)
        if account_id in self.resends and not self.resends[account_id].done():
            return
        failures = self.refusals[account_id] = self.refusals.get(account_id, 0) + 1
        delay = min(RESEND_CAP, RESEND_BASE * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
        runner = self.runners.get(account_id)
        if runner is not None:
            runner.hub_refusing = (
                f"hub refusing: {payload.code} ({payload.message}); resending in {delay:.0f}s"
            )
            runner.last_error = runner.hub_refusing
            await self.account_status_send(runner)
        logger.warning(
            "[account %s] hub refused sync seq %d with %s; resending in %.1fs (refusal %d)",
            account_id,
            seq,
            payload.code,
            delay,
            failures,
        )
        self.resends[account_id] = asyncio.create_task(self._resend_later(account_id, delay))

    async def _resend_later(self, account_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.outbox_pump(account_id)

    # ---- accounts ------------------------------------------------------------------------------

    async def assignment_apply(self, assignment: Assignment) -> None:
        account = assignment.account
        outbox = self.outboxes.get(account.id) or outbox_open(data_dir=self.data_dir, account_id=account.id)
        self.outboxes[account.id] = outbox
        hub_lost_data = outbox_align(outbox=outbox, hub_last_seq=assignment.last_seq, epoch=assignment.epoch)
        self.sent_upto[account.id] = assignment.last_seq
        runner = self.runners.get(account.id)
        if runner is not None and runner.epoch == assignment.epoch and not hub_lost_data:
            runner.account = account
        else:
            if runner is not None:
                await runner.stop()
            if account.storage_state and self.pool.storage_state_load(account.id) is None:
                self.pool.storage_state_store(account.id, account.storage_state)
            try:
                adapter = adapter_get(platform=account.platform)
            except KeyError as exc:
                logger.error("[account %s %s] %s", account.id, account.platform, exc)
                return
            runner = AccountRunner(
                account=account,
                epoch=assignment.epoch,
                pool=self.pool,
                adapter=adapter,
                manager=DataManager(outbox=outbox),
                host=self,
                slots=self.crawl_slots,
                data_dir=self.data_dir,
                reconcile_interval=self.reconcile_interval,
                listen_crawl_interval=self.listen_crawl_interval,
            )
            if self.resident.limit > 0 and hasattr(adapter, "listen_open"):
                runner.listener = Listener(runner, self.resident)
            if hub_lost_data:
                runner.manager.forget()
            self.runners[account.id] = runner
            runner.start()
            logger.info(
                "%s assigned (epoch %d, hub last_seq %d)", runner.tag, assignment.epoch, assignment.last_seq
            )
        await self.outbox_pump(account.id)

    async def account_release(self, account_id: int) -> None:
        runner = self.runners.pop(account_id, None)
        if runner is not None:
            await runner.stop()
        await self.pool.context_close(account_id=account_id)

    async def account_status_send(self, runner: AccountRunner) -> None:
        await self.client.send(
            AccountStatusFrame.build(
                account_id=runner.account_id,
                epoch=runner.epoch,
                login_status=runner.login_status,
                runner_status=runner.runner_status,
                last_error=runner.last_error,
                next_run_at=runner.next_run_at,
                profile=runner.profile,
                listener_status=runner.listener.state if runner.listener is not None else "",
            )
        )

    async def outbox_pump(self, account_id: int) -> None:
        """Send queued frames in seq order, at most SEND_WINDOW beyond the last ack."""
        runner = self.runners.get(account_id)
        outbox = self.outboxes.get(account_id)
        if runner is None or outbox is None or not self.registered.is_set():
            return
        acked = outbox.acked_seq
        sent = max(self.sent_upto.get(account_id, acked), acked)
        room = SEND_WINDOW - (sent - acked)
        if room <= 0:
            return
        for pending in outbox.pending(after=sent, limit=room):
            body = json.loads(pending.body)
            frame = DataSyncFrame.build(
                account_id=account_id,
                epoch=runner.epoch,
                seq=pending.seq,
                mode=pending.mode,
                entities=body.get("entities") or {},
                deleted=body.get("deleted") or {},
            )
            if not await self.client.send(frame):
                return
            self.sync_refs[frame.id] = (account_id, pending.seq)
            self.counters["frames_sent"] += 1
            self.sent_upto[account_id] = pending.seq

    # ---- login and replies ---------------------------------------------------------------------

    async def login_handle(self, session_id: str, account_id: int) -> None:
        async def send(**fields: Any) -> None:
            await self.client.send(
                LoginStatusFrame.build(session_id=session_id, account_id=account_id, **fields)
            )

        runner = self.runners.get(account_id)
        if runner is None:
            await send(status="failed", message="this worker does not hold the account")
            return
        await runner.login_run(session_id=session_id, send=send)

    async def reply_handle(self, payload: ReplyRequestPayload) -> None:
        """Post one reply, journaled from arrival to delivered result (see crawler/replyjournal.py)."""
        runner = self.runners.get(payload.account_id)
        outbox = self.outboxes.get(payload.account_id)
        self.counters["replies"] += 1
        if runner is None or outbox is None:
            await self.client.send(
                reply_result_frame(
                    reply_id=payload.reply_id,
                    error=CrawlError("this worker does not hold the account", code="not_assigned"),
                )
            )
            return
        if payload.reply_id in self.replies_active:
            logger.warning(
                "%s reply %s is already in hand; the repeat is ignored", runner.tag, payload.reply_id
            )
            return
        self.replies_active.add(payload.reply_id)
        try:
            journal_received(outbox=outbox, request=payload)
            frame = await self.reply_perform(runner, outbox, payload)
            await self.reply_deliver(runner, outbox, frame)
        finally:
            self.replies_active.discard(payload.reply_id)

    async def reply_perform(
        self, runner: AccountRunner, outbox: Outbox, payload: ReplyRequestPayload
    ) -> ReplyResultFrame:
        """The reply's result: sent (proof), failed (refused, or never posted) or unknown (no proof
        either way; also any error after send was pressed). A refusal with a risk signal holds the account."""
        hold = runner.on_hold()
        if hold:
            return reply_result_frame(
                reply_id=payload.reply_id,
                error=CrawlError(f"the account is cooling down after a risk signal ({hold})", code="on_hold"),
            )
        posted = False

        async def posting() -> None:
            nonlocal posted
            journal_posting(outbox=outbox, reply_id=payload.reply_id)
            posted = True

        job = ReplyJob(
            target=payload.target,
            text=payload.text,
            first_attempt_at=payload.first_attempt_at,
            verify_first=payload.verify_first,
            posting=posting,
        )
        try:
            context = await self.pool.context_get(account_id=runner.account_id)
            entity = await runner.adapter.reply_send(context=context, job=job)
        except (ReplyThrottled, RiskDetected) as exc:
            await runner.risk_hold(exc.message)
            return reply_result_frame(reply_id=payload.reply_id, error=exc)
        except (ReplyFailed, ReplyUnknown) as exc:  # refused (or never posted) / no proof either way
            return reply_result_frame(reply_id=payload.reply_id, error=exc)
        except Exception as exc:
            if posted:  # send was pressed: whether the platform took it is not known
                unknown = ReplyUnknown(f"after send was pressed: {error_text(exc)}", code="interrupted")
                return reply_result_frame(reply_id=payload.reply_id, error=unknown)
            return reply_result_frame(reply_id=payload.reply_id, error=exc)
        runner.wake_now()
        return reply_result_frame(reply_id=payload.reply_id, entity=entity)

    async def reply_deliver(self, runner: AccountRunner, outbox: Outbox, frame: ReplyResultFrame) -> None:
        """Journal the result, send it, and forget it once it has gone out (kept for a later resend
        when the hub is not connected)."""
        result = frame.payload
        journal_done(outbox=outbox, result=result)
        if result.status == "sent":
            logger.info(
                "%s reply %s sent (platform id %s)", runner.tag, result.reply_id, result.platform_reply_id
            )
        else:
            logger.error(
                "%s reply %s %s: %s %s",
                runner.tag,
                result.reply_id,
                result.status,
                result.error_code,
                result.error_message,
            )
        if await self.client.send(frame):
            journal_forget(outbox=outbox, reply_id=result.reply_id)

    async def replies_settle(self, account_id: int) -> None:
        """After a (re)connect: every journaled reply of the account that no task of this process holds
        is settled (a stored result sent again; see crawler/replyjournal.py)."""
        runner = self.runners.get(account_id)
        outbox = self.outboxes.get(account_id)
        if runner is None or outbox is None:
            return
        for entry in journal_entries(outbox=outbox):
            if entry.reply_id in self.replies_active:
                continue
            if entry.phase == DONE and entry.result is not None:
                if await self.client.send(ReplyResultFrame.build(**entry.result.model_dump())):
                    journal_forget(outbox=outbox, reply_id=entry.reply_id)
            elif entry.phase == RECEIVED:
                never = CrawlError("the worker restarted before posting the reply", code="worker_restarted")
                await self.reply_deliver(
                    runner, outbox, reply_result_frame(reply_id=entry.reply_id, error=never)
                )
            elif entry.phase == POSTING:
                self.replies_active.add(entry.reply_id)
                self.spawn(self.reply_recover(runner, outbox, entry), name=f"reply-recover-{entry.reply_id}")

    async def reply_recover(self, runner: AccountRunner, outbox: Outbox, entry: JournalEntry) -> None:
        """A reply the worker died on after pressing send: `sent` if its thread shows it, else `unknown`."""
        request = entry.request
        found = None
        try:
            finder = getattr(runner.adapter, "reply_find", None)
            if finder is not None:
                context = await self.pool.context_get(account_id=runner.account_id)
                found = await finder(
                    context=context,
                    target=request.target,
                    text=request.text,
                    since=entry.updated_ms - PROOF_SLACK_MS,
                )
        except Exception as exc:
            logger.error(
                "%s reply %s: looking for it after a restart failed: %s",
                runner.tag,
                entry.reply_id,
                error_text(exc),
            )
        try:
            if found is not None:
                logger.info("%s reply %s found in its thread after a restart", runner.tag, entry.reply_id)
                frame = reply_result_frame(reply_id=entry.reply_id, entity=found)
            else:
                unknown = ReplyUnknown(
                    "the worker restarted after pressing send and found no proof in the thread",
                    code="worker_restarted",
                )
                frame = reply_result_frame(reply_id=entry.reply_id, error=unknown)
            await self.reply_deliver(runner, outbox, frame)
        finally:
            self.replies_active.discard(entry.reply_id)

    # ---- stats ---------------------------------------------------------------------------------

    def outbox_depth(self) -> int:
        return sum(outbox.depth() for outbox in self.outboxes.values())

    def account_rows(self) -> list[dict[str, Any]]:
        rows = []
        for runner in self.runners.values():
            rows.append(
                {
                    "account_id": runner.account_id,
                    "platform": runner.account.platform,
                    "login": runner.login_status,
                    "state": runner.runner_status,
                    "next_run_in": None
                    if runner.next_run_at is None
                    else max(0.0, runner.next_run_at / 1000 - time.time()),
                    "items": runner.items_sent,
                    "crawls": runner.crawls,
                    "errors": runner.error_count,
                    "records_skipped": runner.records_skipped,
                    "last_error": runner.last_error,
                    "listener": runner.listener.state if runner.listener is not None else "",
                    "pushed": runner.listener.pushed if runner.listener is not None else 0,
                }
            )
        return rows

    async def heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if not self.registered.is_set():
                continue
            rss, pss = await asyncio.to_thread(memory_tree_bytes)
            await self.client.send(
                HeartbeatFrame.build(
                    active_accounts=len(self.runners),
                    browser_contexts=self.pool.context_count,
                    rss_bytes=rss,
                    pss_bytes=pss,
                    outbox_depth=self.outbox_depth(),
                    accounts={
                        str(r["account_id"]): {k: v for k, v in r.items() if k != "account_id"}
                        for r in self.account_rows()
                    },
                )
            )


def reply_result_frame(
    *, reply_id: str, entity: Comment | Message | None = None, error: BaseException | None = None
) -> ReplyResultFrame:
    """The one `worker:reply:result` builder: `sent` with the created entity (None: accepted, nothing
    readable), `unknown` for a ReplyUnknown, or `failed` with the error's code (a CrawlError's own,
    else `internal_error`) and message."""
    if error is not None:
        code = error.code if isinstance(error, CrawlError) else "internal_error"
        return ReplyResultFrame.build(
            reply_id=reply_id,
            status="unknown" if isinstance(error, ReplyUnknown) else "failed",
            error_code=code,
            error_message=error_text(error),
        )
    return ReplyResultFrame.build(
        reply_id=reply_id, status="sent", platform_reply_id=record_platform_id(entity), entity=entity
    )


# hub frame type -> the handler of its (typed) payload
HANDLERS: dict[str, Callable[[Worker, Any], Awaitable[None]]] = {
    "master:register:ack": Worker.on_register_ack,
    "master:task:assign": Worker.on_assign,
    "master:task:revoke": Worker.on_revoke,
    "master:login:start": Worker.on_login_start,
    "master:reply:request": Worker.on_reply_request,
    "master:resync": Worker.on_resync,
    "worker:data:sync:ack": Worker.on_sync_ack,
    "master:error": Worker.on_error,
}

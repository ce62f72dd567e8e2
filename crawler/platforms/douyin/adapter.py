"""Douyin adapter: the creator center's surfaces composed behind the platform adapter protocol.

Each surface lives in its own module beside the shared `locators.py` / `parsers.py`: `login.py`
(login check, QR login), `works.py`, `comments.py`, `chat.py`, `replies.py`; `site.py` holds what they
share. The adapter reads what the page itself fetches (response interception; the page signs its own
calls) and drives the page to get more; it never calls an API itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from playwright.async_api import BrowserContext

from crawler.errors import LoginUncertain
from crawler.pagekit import tasks_merged
from crawler.platforms import Batch, DriftNote, LoginReport, ReplyJob, register_adapter
from crawler.platforms.douyin import chat, comments, listen, login, replies, works
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin.site import DouyinMemory, Site, login_uncertain_resolve
from datasync.protocol import Comment, Content, Message, Notification, Profile, ReplyTarget

logger = logging.getLogger("crawler.douyin")


class DouyinAdapter:
    """The creator center of Douyin, real or simulated (base URL from `locators.base_url()`)."""

    name = "douyin"

    def __init__(self, *, base_url: str | None = None) -> None:
        self.site = Site(base_url=(base_url or L.base_url()).rstrip("/"))

    @property
    def base_url(self) -> str:
        return self.site.base_url

    def memory_new(self) -> DouyinMemory:
        return DouyinMemory()

    async def login_check(self, *, context: BrowserContext) -> Profile:
        return await login.login_check(self.site, context=context)

    async def login_run(
        self, *, context: BrowserContext, report: LoginReport, timeout: float = 180.0
    ) -> Profile:
        return await login.login_run(self.site, context=context, report=report, timeout=timeout)

    async def reply_send(self, *, context: BrowserContext, job: ReplyJob) -> Comment | Message | None:
        try:
            return await replies.reply_send(self.site, context=context, job=job)
        except LoginUncertain as exc:  # a read before posting answered status 8
            await login_uncertain_resolve(self.site, context, exc)

    async def reply_find(
        self, *, context: BrowserContext, target: ReplyTarget, text: str, since: int
    ) -> Comment | Message | None:
        return await replies.reply_find(self.site, context=context, target=target, text=text, since=since)

    # ---- push listening (crawler/listener.py) -------------------------------------------------------

    async def listen_open(
        self,
        *,
        context: BrowserContext,
        emit: Callable[[dict[str, object]], Awaitable[None]],
        known: list[str] | None = None,
    ) -> tuple[object, str, object]:
        return await listen.listen_open(self.site, context=context, emit=emit, known=known)

    async def chat_read(self, *, context: BrowserContext, memory: DouyinMemory) -> AsyncIterator[Batch]:
        """The chat's changed conversations, read to the known messages (a frame on the IM socket)."""
        try:
            async for batch in chat.chat_crawl(self.site, context=context, memory=memory):
                yield batch
        except LoginUncertain as exc:
            await login_uncertain_resolve(self.site, context, exc)

    def listen_batches(self, event: dict[str, object], drift: list[DriftNote]) -> list[Batch]:
        return listen.pushed_batches(event, drift)

    def listen_notices(self, event: dict[str, object], drift: list[DriftNote]) -> list[Notification] | None:
        return listen.pushed_notices(event, drift)

    async def comments_read(
        self,
        *,
        context: BrowserContext,
        content_ids: list[str],
        memory: DouyinMemory,
        expect: dict[str, set[str]] | None = None,
    ) -> AsyncIterator[Batch]:
        """The comments of these works only (a comment notice named them), not a crawl: read until
        the known comments and the ones the notices named (`expect`: work id -> comment ids)."""
        stand_ins = [Content.model_construct(content_id=cid) for cid in content_ids]
        known = memory.known_ids.get("comments", set())
        reads = {
            cid: comments.CommentRead(
                full=False,
                known=known,
                reply_counts=memory.comment_reply_counts,
                expect_ids={i for i in (expect or {}).get(cid, ()) if i not in known},
            )
            for cid in content_ids
        }
        try:
            async for batch, _work in comments.comments_crawl(
                self.site, context=context, works=stand_ins, drift=memory.drift, reads=reads
            ):
                yield batch
        except LoginUncertain as exc:
            await login_uncertain_resolve(self.site, context, exc)

    async def crawl(self, *, context: BrowserContext, memory: DouyinMemory) -> AsyncIterator[Batch]:
        """The surfaces' batches as they come (`crawl_surfaces`); an answer a logged-out session also
        gets (status 8 on a read) is decided by the login signals: expired, or risk (cool down)."""
        try:
            async for batch in self.crawl_surfaces(context=context, memory=memory):
                yield batch
        except LoginUncertain as exc:
            await login_uncertain_resolve(self.site, context, exc)

    async def crawl_surfaces(self, *, context: BrowserContext, memory: DouyinMemory) -> AsyncIterator[Batch]:
        """Works first; then comments (of works whose count changed) and the chat, side by side in
        pages of the same context. Batches are yielded as they come."""
        found: list[Content] = []
        started = time.monotonic()
        async for batch in works.works_crawl(self.site, context=context, drift=memory.drift):
            found.extend(batch)
            yield ("contents", batch)
        logger.debug("works: %d in %.1fs", len(found), time.monotonic() - started)
        todo = [
            w
            for w in found
            if w.stats.comments and memory.work_comment_counts.get(w.content_id) != w.stats.comments
        ]
        # a work read before is read incrementally (to the known comments and its growth), unless this
        # crawl reconciles
        known = memory.known_ids.get("comments", set())
        reads: dict[str, comments.CommentRead] = {}
        for w in todo:
            before = memory.work_comment_counts.get(w.content_id)
            incremental = not memory.reconcile and before is not None
            reads[w.content_id] = comments.CommentRead(
                full=not incremental,
                known=known if incremental else (),
                reply_counts=memory.comment_reply_counts,
                expect_new=(w.stats.comments - before) if incremental and before is not None else None,
            )
        queue: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue()

        async def comments_part() -> None:
            if not todo:
                return
            async for batch, work in comments.comments_crawl(
                self.site, context=context, works=todo, drift=memory.drift, reads=reads
            ):
                await queue.put(batch)
                if work is not None:
                    memory.work_comment_counts[work.content_id] = work.stats.comments

        async def chat_part() -> None:
            if "messages" in memory.pushed_kinds:  # the listener delivers them; reconciliation reads all
                return
            async for batch in chat.chat_crawl(self.site, context=context, memory=memory):
                await queue.put(batch)

        async def guarded(part: Callable[[], Awaitable[None]], name: str) -> None:
            began = time.monotonic()
            try:
                await part()
            except BaseException as exc:  # handed to the consumer, which raises it
                await queue.put(exc)
            finally:
                logger.debug("%s done in %.1fs", name, time.monotonic() - began)
                await queue.put(None)

        tasks = [
            asyncio.create_task(guarded(comments_part, "comments")),
            asyncio.create_task(guarded(chat_part, "chat")),
        ]
        async for item in tasks_merged(queue, tasks):
            yield item


register_adapter("douyin", DouyinAdapter)

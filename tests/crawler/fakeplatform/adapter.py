"""The "fakelist" adapter: opens the notes page and reads what the page itself fetches."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from playwright.async_api import BrowserContext

from crawler.errors import CrawlError
from crawler.pagekit import ResponseTap
from crawler.platforms import Batch, CrawlMemory, LoginReport, ReplyJob, register_adapter
from datasync.protocol import Comment, Message, Profile, ReplyTarget

NOTES_API = re.compile(r"^/api/notes/?$")


class FakeListAdapter:
    """One list page; each note becomes a message of conversation "notes"."""

    name = "fakelist"
    base_url = ""  # set by the test before the worker starts

    def memory_new(self) -> CrawlMemory:
        return CrawlMemory()

    async def login_check(self, *, context: BrowserContext) -> Profile:
        return Profile(platform_user_id="fake-1", nickname="fake")

    async def login_run(self, *, context: BrowserContext, report: LoginReport) -> Profile:
        raise CrawlError("the fake platform has no login", code="unsupported")

    async def crawl(self, *, context: BrowserContext, memory: Any) -> AsyncIterator[Batch]:
        page = await context.new_page()
        tap = ResponseTap(page, {"notes": NOTES_API})
        try:
            await page.goto(f"{self.base_url}/notes", wait_until="domcontentloaded")
            if not await tap.wait_for("notes", count=1, timeout=15):
                raise CrawlError("the notes page fetched no notes")
            for captured in tap.take("notes"):
                yield (
                    "messages",
                    [
                        Message(
                            message_id=str(n["id"]),
                            conversation_id="notes",
                            direction="in",
                            text=str(n["text"]),
                            created_at=int(n["at"]),
                        )
                        for n in captured.body["notes"]
                    ],
                )
        finally:
            await page.close()

    async def reply_send(self, *, context: BrowserContext, job: ReplyJob) -> Comment | Message | None:
        raise CrawlError("the fake platform takes no replies", code="unsupported")

    async def reply_find(
        self, *, context: BrowserContext, target: ReplyTarget, text: str, since: int
    ) -> Comment | Message | None:
        return None


register_adapter("fakelist", FakeListAdapter)

"""Platform adapters: the protocol the worker's runner knows, and the registry by platform name.

The runner and worker import only this module: an adapter is found by its platform name (dispatch by
name, not by if/elif). Adding a platform is adding a folder: `crawler/platforms/<name>/adapter.py`
that calls `register_adapter("<name>", factory)` when imported; `adapter_get` imports that module the
first time the platform is asked for. Tests register their own adapters the same way.

Per-account crawl memory is part of the protocol: `memory_new()` gives the object the runner keeps
for one account and hands to every `crawl`; `forget()` is called on `master:resync`; `drift` collects
what the adapter noticed of a changed platform surface (records it skipped) during one crawl.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from datasync.protocol import Comment, Message, Notification, Profile, ReplyTarget

logger = logging.getLogger("crawler.platforms")

Batch = tuple[str, list[Any]]  # (entity kind, records)
LoginReport = Callable[..., Awaitable[None]]


@dataclass
class DriftNote:
    """One thing of the platform's surface that did not look as expected (a record skipped)."""

    locator: str  # which locator or field, e.g. "comment_list.comments[3].create_time"
    message: str
    sample: Any = None  # the raw data that failed (secrets are stripped before it is saved)


@dataclass
class ReplyJob:
    """One reply for an adapter to post, and how to prove it.

    `first_attempt_at` (epoch ms) is when the agent first asked: a proof found in the thread must be
    at least that new (less a minute of clock slack). `verify_first` (a retry): look for such a proof
    before posting, and return it instead of posting twice. `posting` is awaited right before send is
    pressed (the worker journals the reply as in flight there).
    """

    target: ReplyTarget
    text: str
    first_attempt_at: int | None = None
    verify_first: bool = False
    posting: Callable[[], Awaitable[None]] | None = None

    async def posting_mark(self) -> None:
        if self.posting is not None:
            await self.posting()


@dataclass
class CrawlMemory:
    """What an adapter remembers of one account between crawls; subclass it to add more."""

    drift: list[DriftNote] = field(default_factory=list)
    # Kinds a push listener delivers right now: the periodic crawl skips the surfaces that read them
    # (the runner clears it for the reconciliation walk).
    pushed_kinds: set[str] = field(default_factory=set)
    # Ids the worker already delivered, by kind (set by the runner before each crawl): incremental
    # reads stop at them.
    known_ids: dict[str, set[str]] = field(default_factory=dict)
    # This crawl reads everything (the first, a resync, the periodic reconciliation): no incremental
    # read stops at known ids (set by the runner before each crawl).
    reconcile: bool = True

    def forget(self) -> None:
        """Forget what incremental crawls skip (a resync: the next crawl reads everything)."""
        self.drift.clear()

    def drift_take(self) -> list[DriftNote]:
        taken, self.drift = self.drift, []
        return taken


class PlatformAdapter(Protocol):
    """What the runner and worker call on an adapter (Playwright contexts are passed in)."""

    name: str

    def memory_new(self) -> CrawlMemory: ...

    async def login_check(self, *, context: Any) -> Profile: ...

    async def login_run(self, *, context: Any, report: LoginReport) -> Profile: ...

    def crawl(self, *, context: Any, memory: Any) -> AsyncIterator[Batch]: ...

    async def reply_send(self, *, context: Any, job: ReplyJob) -> Comment | Message | None:
        """Post `job`; the created record (None: accepted, but the answer named nothing readable).
        Raises ReplyFailed / ReplyThrottled (not posted) or ReplyUnknown (no proof either way)."""
        ...

    async def reply_find(
        self, *, context: Any, target: ReplyTarget, text: str, since: int
    ) -> Comment | Message | None:
        """The account's own comment or message in the target's thread with `text` (whitespace
        ignored), created at or after `since` (epoch ms, less the clock slack); None when none is."""
        ...


class ListeningAdapter(PlatformAdapter, Protocol):
    """An adapter that can also listen to the platform's push (crawler/listener.py)."""

    async def listen_open(
        self,
        *,
        context: Any,
        emit: Callable[[dict[str, Any]], Awaitable[None]],
        known: list[str] | None = None,
    ) -> tuple[Any, str, Any]:
        """A resident page with the push hook installed, where the hook found its source, and a
        SurfaceChanged note when it listens in a lesser way (no store: the page's IM socket frames
        only say that something came; `frame` events); `known`: the message ids already delivered
        (never handed out again). SurfaceChanged raised when the page holds nothing to listen to (the
        account keeps polling)."""
        ...

    def chat_read(self, *, context: Any, memory: Any) -> AsyncIterator[Batch]:
        """The conversations whose last message changed, read incrementally (a `frame` event)."""
        ...

    def listen_batches(self, event: dict[str, Any], drift: list[DriftNote]) -> list[Batch]:
        """A pushed `message` event -> the records it carries, by kind."""
        ...

    def listen_notices(self, event: dict[str, Any], drift: list[DriftNote]) -> list[Notification] | None:
        """A `notice` event -> the notifications it names (None: unreadable; crawl instead)."""
        ...

    def comments_read(
        self, *, context: Any, content_ids: list[str], memory: Any, expect: dict[str, set[str]] | None = None
    ) -> AsyncIterator[Batch]:
        """The comments of these works only, read until the known ones and those `expect` names
        (work id -> comment ids a notice named)."""
        ...


ADAPTERS: dict[str, Callable[[], Any]] = {}


def register_adapter(name: str, factory: Callable[[], Any]) -> None:
    """Make `factory()` the adapter of platform `name`."""
    ADAPTERS[name] = factory


def adapter_get(*, platform: str) -> Any:
    """A new adapter for `platform`; KeyError with a clear message when none is registered."""
    if platform not in ADAPTERS and platform.isidentifier():
        try:
            importlib.import_module(f"{__name__}.{platform}.adapter")
        except ModuleNotFoundError as exc:
            logger.debug("no adapter module for platform %s: %s", platform, exc)
    try:
        factory = ADAPTERS[platform]
    except KeyError:
        raise KeyError(f"no crawler adapter for platform {platform!r}") from None
    return factory()


def memory_for(adapter: Any) -> Any:
    """The adapter's per-account memory, or a plain `CrawlMemory` for adapters that keep none."""
    factory = getattr(adapter, "memory_new", None)
    return factory() if factory is not None else CrawlMemory()


def record_platform_id(entity: BaseModel | None) -> str | None:
    """The platform id of a record an adapter created (a sent comment or message)."""
    if entity is None:
        return None
    return getattr(entity, "comment_id", None) or getattr(entity, "message_id", None)

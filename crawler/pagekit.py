"""Playwright helpers shared by adapters: read the page's own API responses, read React fiber props.

`ResponseTap` listens to a page's requests whose URL path matches a pattern, reads each finished
response's JSON body and keeps it, and can wait until the page's matching requests have settled. A
pattern is a compiled regex or anything with `match(path)` returning the name of the variant that
matched (an `ApiLocator` with ordered, named variants); that name is kept as `Captured.variant`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from playwright.async_api import Page, Request

logger = logging.getLogger("crawler.pagekit")

# Finds the nearest fiber whose memoizedProps hold `key` (or one of a list of keys), walking `.return` from
# the host node, and returns a plain copy of its props. React props hold cyclic objects, functions, DOM
# nodes and elements: the copy takes data fields one by one (depth-bounded, a cycle back to an ancestor
# dropped, getters read once), never JSON.stringify of the props themselves.
FIBER_JS = """
window.__imhubPlain = function (value, depth, seen) {
  if (value === null || value === undefined) return value;
  var kind = typeof value;
  if (kind === "string" || kind === "number" || kind === "boolean") return value;
  if (kind === "bigint") return String(value);
  if (kind !== "object" || depth <= 0 || seen.indexOf(value) >= 0) return undefined;
  if (value.nodeType || value === window || value.$$typeof) return undefined;
  seen.push(value);
  var out;
  if (Array.isArray(value)) {
    out = [];
    for (var i = 0; i < value.length && i < 500; i++) {
      var item = window.__imhubPlain(value[i], depth - 1, seen);
      out.push(item === undefined ? null : item);
    }
  } else {
    out = {};
    for (var key in value) {
      if (key.indexOf("__react") === 0 || key === "_owner" || key === "children") continue;
      var field;
      try { field = value[key]; } catch (e) { continue; }
      var copied = window.__imhubPlain(field, depth - 1, seen);
      if (copied !== undefined) out[key] = copied;
    }
  }
  seen.pop();
  return out;
};
window.__imhubFiberProps = function (node, key) {
  if (!node) return null;
  var keys = Array.isArray(key) ? key : [key];
  var name = Object.keys(node).find(function (k) { return k.indexOf("__reactFiber$") === 0; });
  if (!name) return null;
  var fiber = node[name];
  for (var i = 0; fiber && i < 12; i++, fiber = fiber.return) {
    var props = fiber.memoizedProps;
    if (props && typeof props === "object" && keys.some(function (k) { return k in props; })) {
      return window.__imhubPlain(props, 6, []);
    }
  }
  return null;
};
"""


class PathMatcher(Protocol):
    def match(self, path: str) -> Any: ...


@dataclass
class Captured:
    """One matched response: its name (which pattern), path, query and decoded JSON (None = empty),
    and which named variant of the pattern matched ("" for a plain regex)."""

    name: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any
    variant: str = ""
    at: float = field(default_factory=time.monotonic)


class ResponseTap:
    """Collects the JSON bodies of a page's requests that match named path patterns."""

    def __init__(self, page: Page, patterns: dict[str, re.Pattern[str] | PathMatcher]) -> None:
        self.page = page
        self.patterns = patterns
        self.captured: list[Captured] = []
        self.unmatched: deque[str] = deque(maxlen=40)  # other fetch/XHR paths: a drift report's sample
        self.inflight = 0
        self.changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        page.on("request", self._on_request)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)

    def _match(self, url: str) -> str | None:
        return self._match_variant(url)[0]

    def _match_variant(self, url: str) -> tuple[str | None, str]:
        path = urlparse(url).path
        for name, pattern in self.patterns.items():
            hit = pattern.match(path)
            if hit:
                return name, hit if isinstance(hit, str) else ""
        return None, ""

    def _on_request(self, request: Request) -> None:
        if self._match(request.url):
            self.inflight += 1
        elif request.resource_type in ("fetch", "xhr"):
            self.unmatched.append(urlparse(request.url).path)

    def _on_failed(self, request: Request) -> None:
        if self._match(request.url):
            self.inflight -= 1
            self.changed.set()

    def _on_finished(self, request: Request) -> None:
        name = self._match(request.url)
        if name is None:
            return
        task = asyncio.ensure_future(self._read(name, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, name: str, request: Request) -> None:
        try:
            response = await request.response()
            if response is None or 300 <= response.status < 400:
                return
            text = await response.text()
            parsed = urlparse(request.url)
            try:
                body = json.loads(text) if text.strip() else None
            except ValueError:
                body = None
            self.captured.append(
                Captured(
                    name=name,
                    path=parsed.path,
                    query=parse_qs(parsed.query),
                    status=response.status,
                    body=body,
                    variant=self._match_variant(request.url)[1],
                )
            )
        except Exception as exc:  # the page navigated away or closed mid-read
            logger.debug("reading a %s response failed: %s", name, exc)
        finally:
            self.inflight -= 1
            self.changed.set()

    def take(self, name: str | None = None) -> list[Captured]:
        """Remove and return captured responses (of one pattern name, or all)."""
        taken = [c for c in self.captured if name is None or c.name == name]
        self.captured = [c for c in self.captured if not (name is None or c.name == name)]
        return taken

    async def settle(self, *, quiet: float = 0.25, timeout: float = 15.0) -> None:
        """Wait until no matching request is in flight and none started for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.changed.clear()
            if self.inflight <= 0:
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=quiet)
                except TimeoutError:
                    if self.inflight <= 0:
                        return
                continue
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
        if self.inflight > 0:
            logger.warning("%d page requests still in flight after %.0fs", self.inflight, timeout)
            self.inflight = 0

    async def wait_for(self, name: str, *, count: int, timeout: float = 15.0) -> bool:
        """Wait until at least `count` responses of `name` are held; False on timeout."""
        deadline = time.monotonic() + timeout
        while sum(1 for c in self.captured if c.name == name) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)
            except TimeoutError:
                return False
        return True


async def fiber_install(page: Page) -> None:
    """Make `window.__imhubFiberProps(node, key or [keys])` (and `__imhubPlain`) available in the page."""
    await page.evaluate(FIBER_JS)


async def tasks_merged(queue: asyncio.Queue[Any], tasks: list[asyncio.Task[Any]]) -> AsyncIterator[Any]:
    """Yield what ``tasks`` put on ``queue`` until each has put ``None``; an exception one of them put
    is raised here; all of them are cancelled when the consumer stops (normally or not)."""
    try:
        finished = 0
        while finished < len(tasks):
            item = await queue.get()
            if item is None:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

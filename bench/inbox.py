"""Inbox page benchmark: real Chromium against the hub (its default server) serving the synthetic 1,000,000-item store.

Measures the time from submitting the login form to the first inbox rows rendered, and counts the
HTTP requests the page makes per view (from Playwright's request events): the first load after login,
opening a DM, opening a comment, the works tab, and the next page of the list (endless scroll). The
store is synthesised in the serving process (``bench.asgi``, ``IMHUB_BENCH_DATASET``, see bench.data); the
database holds the agent, the team and the accounts only.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.api import _wait_loaded, bench_database
from crawler.browser_path import chromium_executable, chromium_launch_args
from imhub.processes import HOST, ManagedProcess, free_port, hub_command

PASSWORD = "bench-inbox-pw"
SEED = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from accounts.models import Account
team = Group.objects.create(name="bench-team")
agent = User.objects.create_user("bench-agent", password=PASSWORD)
agent.groups.add(team)
Account.objects.bulk_create([Account(nickname=f"bench-{i}", team=team) for i in range(1, ACCOUNTS + 1)])
print(json.dumps({"token": Token.objects.create(user=agent).key}))
"""


def _chromium() -> str:
    """The Chromium the crawler would use (``crawler.browser_path``)."""
    path = chromium_executable()
    if path is None:
        raise RuntimeError("no Chromium found (set IMHUB_CHROMIUM)")
    return path


@dataclass
class ViewRequests:
    """Requests one view made, by kind (document, static, api, websocket) and the API paths."""

    view: str
    kinds: Counter[str] = field(default_factory=Counter)
    api: list[str] = field(default_factory=list)


@dataclass
class InboxBenchResult:
    first_rows_ms: list[float]
    views: list[ViewRequests]
    accounts: int
    items: int
    phases: dict[str, float] = field(default_factory=dict)


def _kind(url: str, resource_type: str) -> str:
    if "/api/" in url:
        return "api"
    if "/static/" in url:
        return "static"
    return "websocket" if resource_type == "websocket" else resource_type


class _Recorder:
    """Collects the page's requests between ``start`` and ``stop``."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.current: ViewRequests | None = None
        page.on("request", self._request)
        page.on("websocket", lambda ws: self._count("websocket", ws.url))

    def _request(self, request: Any) -> None:
        self._count(_kind(request.url, request.resource_type), request.url)

    def _count(self, kind: str, url: str) -> None:
        if self.current is None:
            return
        self.current.kinds[kind] += 1
        if kind == "api":
            self.current.api.append(url.split("/api/im/", 1)[-1].split("?", 1)[0])

    def view(self, name: str, action: Callable[[], Any], *, ready: Callable[[], Any]) -> ViewRequests:
        """Run ``action``, wait until ``ready`` and the network is idle; the requests made meanwhile."""
        done = self.current = ViewRequests(view=name)
        action()
        ready()
        self.page.wait_for_load_state("networkidle")
        self.current = None
        return done


def _login_and_first_rows(browser: Any, base: str) -> tuple[float, Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
            else route.abort()
        ),
    )
    page = context.new_page()
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    page.goto(f"{base}/inbox/login/")
    page.fill("#id_username", "bench-agent")
    page.fill("#id_password", PASSWORD)
    recorder = _Recorder(page)
    recorder.current = ViewRequests(view="login -> first rows")
    started = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_selector("#item-list .item", timeout=120_000)
    elapsed = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("networkidle")
    return elapsed, page, recorder


# Where the time goes, from the browser's own timings (ms since the login POST started the navigation).
PHASES_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const api = (path) => Math.max(0, ...performance.getEntriesByType("resource")
      .filter((r) => r.name.includes(path)).map((r) => r.responseEnd));
  return {"login POST + redirect": nav.redirectEnd || nav.fetchStart, "page HTML": nav.responseEnd,
          "modules run (DOMContentLoaded)": nav.domContentLoadedEventEnd,
          "accounts/ answered": api("/api/im/accounts/"), "first unified page answered": api("/api/im/unified-messages/")};
}"""


def _views_walk(page: Any, recorder: _Recorder) -> list[ViewRequests]:
    """Each view of the page after the first load, with the requests it made."""

    rows = page.locator("#item-list .item").count()
    steps: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        (
            "next page (scroll)",
            lambda: page.eval_on_selector("#list-status", "e => e.scrollIntoView()"),
            lambda: page.wait_for_function(f"document.querySelectorAll('#item-list .item').length > {rows}"),
        ),
        (
            "DMs filter",
            lambda: page.click(".segmented label:has(input[value=messages])"),
            lambda: page.wait_for_selector("#item-list .item.message"),
        ),
        (
            "open a DM",
            lambda: page.click("#item-list .item.message"),
            lambda: page.wait_for_selector("#thread .bubble"),
        ),
        (
            "comments filter",
            lambda: page.click(".segmented label:has(input[value=comments])"),
            lambda: page.wait_for_selector("#item-list .item.comment"),
        ),
        (
            "open a comment",
            lambda: page.click("#item-list .item.comment"),
            lambda: page.wait_for_selector("#thread .comment-bubble"),
        ),
        ("works tab", lambda: page.click("#tab-works"), lambda: page.wait_for_selector("#work-list .work")),
        (
            "open a work",
            lambda: page.click("#work-list .work"),
            lambda: page.wait_for_selector("#detail-head .work-head"),
        ),
    ]
    return [recorder.view(name, action, ready=ready) for name, action, ready in steps]


def bench_inbox_measure(
    *, base: str, runs: int, log: Callable[[str], None] = print
) -> tuple[list[float], list[ViewRequests], dict[str, float]]:
    """``runs`` fresh logins (first-rows times), then the request count of each view on the last one."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    views: list[ViewRequests] = []
    phases: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=chromium_launch_args())
        try:
            for run in range(runs):
                elapsed, page, recorder = _login_and_first_rows(browser, base)
                times.append(elapsed)
                for name, value in page.evaluate(PHASES_JS).items():
                    phases.setdefault(name, []).append(value)
                log(f"  run {run + 1}: first rows {elapsed:.0f} ms")
                if run == runs - 1:
                    first_view, recorder.current = recorder.current, None
                    assert first_view is not None
                    views = [first_view, *_views_walk(page, recorder)]
                page.context.close()
        finally:
            browser.close()
    return times, views, {name: statistics.median(values) for name, values in phases.items()}


def bench_inbox_run(
    *, accounts: int, items: int, runs: int, log: Callable[[str], None] = print
) -> InboxBenchResult:
    """Start the hub on the synthetic store, seed the agent, measure in Chromium, stop the hub."""
    with tempfile.TemporaryDirectory(prefix="imhub-bench-inbox-") as tmp:
        code = SEED.replace("PASSWORD", repr(PASSWORD)).replace("ACCOUNTS", str(accounts))
        env, seeded = bench_database(tmp, seed=code)
        token = seeded["token"]
        port = free_port()
        server_env = {**env, "IMHUB_BENCH_DATASET": f"accounts={accounts},items={items},boost=1"}
        hub = ManagedProcess(
            name="hub",
            args=hub_command(port=port, env=server_env, app="bench.asgi:application"),  # the default server
            env=server_env,
            log_path=Path(tmp) / "hub.log",
        ).start()
        try:
            base = f"http://{HOST}:{port}"
            started = time.monotonic()
            _wait_loaded(base, token, expect_items=items // accounts)
            log(
                f"hub: store of {items} items over {accounts} accounts ready in {time.monotonic() - started:.0f}s"
            )
            times, views, phases = bench_inbox_measure(base=base, runs=runs, log=log)
        finally:
            hub.stop(timeout=20)
    return InboxBenchResult(first_rows_ms=times, views=views, accounts=accounts, items=items, phases=phases)


def bench_inbox_markdown(*, result: InboxBenchResult, command: str) -> str:
    """The "## Inbox" section of docs/benchmarks.md."""
    times = result.first_rows_ms
    lines = [
        "## Inbox",
        "",
        f"Command: `{command}`",
        "",
        f"Real Chromium (Playwright) against one hub process (the default server) serving a synthetic store of "
        f"{result.items:,} items over {result.accounts} accounts (the agent's team sees all of them), on the "
        'same 2 shared cores. "First rows" is the time from submitting the login form to the first inbox '
        "rows rendered: the login POST and redirect, the page, its CSS and ES modules, `/ws/im/`, the "
        "accounts list and the first unified page. Requests are counted from Playwright's request events "
        "(cached static files are not requested again).",
        "",
        f"- first rows after login: median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, "
        f"max {max(times):.0f} ms over {len(times)} fresh logins",
        "- where the time goes (median, ms after the login POST started, browser timings): "
        + ", ".join(f"{name} {value:.0f}" for name, value in result.phases.items()),
        "",
        "| view | API requests | API routes | static | document | websocket |",
        "|---|---|---|---|---|---|",
    ]
    for view in result.views:
        routes = ", ".join(f"`{r}`" for r in view.api) or "-"
        lines.append(
            f"| {view.view} | {view.kinds['api']} | {routes} | {view.kinds['static']} | "
            f"{view.kinds['document']} | {view.kinds['websocket']} |"
        )
    lines += [
        "",
        "Each view costs a fixed number of API calls whatever the number of rows: unified rows carry "
        "their work's title and the conversation's peer (`context`), so no row needs a call of its own; "
        "badges are refreshed by one `accounts/{id}/` call per account after its events (debounced), and "
        "account status changes come with their data over `/ws/im/`. An `accounts/{id}/` after a read mark is "
        "that debounced refresh, counted in the view current when it fires. Most of the login POST is "
        "Django's password hashing (PBKDF2, slow by design).",
    ]
    return "\n".join(lines) + "\n"


def bench_inbox_write(*, path: Path, section: str) -> None:
    """Replace (or append) the "## Inbox" section of ``path``, leaving other sections alone."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find("## Inbox")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text)

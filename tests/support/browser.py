"""Browser-test helpers.

``wait_for_js`` stands in for Playwright's ``page.wait_for_function``: that one builds its predicate
with ``eval`` inside the page, which the hub's Content-Security-Policy (no ``unsafe-eval``) forbids, as it
should. ``page.evaluate`` runs through the DevTools protocol, outside the page's policy, so polling it
checks the same condition while the page keeps its real policy (the tests would miss a violation with
``bypass_csp``).
"""

from __future__ import annotations

import time
from typing import Any


def wait_for_js(page: Any, expression: str, arg: Any = None, *, timeout: float = 30_000) -> Any:
    """Poll ``page.evaluate(expression, arg)`` until it is truthy; returns it. ``timeout`` in ms."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout / 1000:g}s waiting for {expression[:120]!r}")
        page.wait_for_timeout(100)

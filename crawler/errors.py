"""The crawler's one error family: a code and a message, mapped to a backoff class by the runner."""

from __future__ import annotations

from typing import Any


class CrawlError(Exception):
    """A failure the runner knows how to handle; `code` is stable, `message` is shown in status."""

    code = "crawl_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class LoginExpired(CrawlError):
    """The session is gone (login page, login-required code): report `expired` and stop crawling."""

    code = "login_expired"


class RiskDetected(CrawlError):
    """Captcha page, empty bodies or rate-limit codes: cool down before trying again."""

    code = "risk"


class SurfaceChanged(CrawlError):
    """The platform's page loaded but does not look as the adapter expects: no known response or
    element appeared in time, or a response did not parse. `locator` names what failed; `sample` is
    the raw data (saved under the worker's data dir, secrets stripped)."""

    code = "surface_changed"

    def __init__(self, message: str, *, locator: str, sample: Any = None) -> None:
        super().__init__(message)
        self.locator = locator
        self.sample = sample


class ReplyFailed(CrawlError):
    """A reply the platform refused or did not confirm."""

    code = "reply_failed"


def error_text(exc: BaseException, *, limit: int = 300) -> str:
    """A one-line message for status and logs: a CrawlError's message, or the exception's full text."""
    if isinstance(exc, CrawlError):
        return exc.message
    text = " ".join(str(exc).split())
    if "Call log:" in text:
        text = text.split("Call log:")[0].strip()
    return text[:limit] or type(exc).__name__

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
    """Captcha or verification page, empty bodies, risk HTTP statuses or codes: cool down before
    trying again (never "expired", never "surface changed")."""

    code = "risk"


class LoginUncertain(RiskDetected):
    """An answer that a logged-out session also gets (Douyin's status_code 8 on a read): the adapter
    decides from login signals (login cookies, a redirect to the login page, the login card); without
    one it is risk and cools down like any RiskDetected."""

    code = "login_uncertain"


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
    """A reply the platform refused, or that was never posted (result `failed`)."""

    code = "reply_failed"


class ReplyThrottled(ReplyFailed):
    """The platform refused a post with a risk signal (status 8 `评论失败，请稍后重试`, a risk code or
    HTTP status): `failed` with code `throttled`, and the account goes on hold (cool-down)."""

    code = "throttled"


class ReplyUnknown(CrawlError):
    """A reply that was (or may have been) posted without proof either way (result `unknown`): no
    answer in time, an unreadable answer, the sent message not shown in time. Never retried blindly."""

    code = "unknown"


def error_text(exc: BaseException, *, limit: int = 300) -> str:
    """A one-line message for status and logs: a CrawlError's message, or the exception's full text."""
    if isinstance(exc, CrawlError):
        return exc.message
    text = " ".join(str(exc).split())
    if "Call log:" in text:
        text = text.split("Call log:")[0].strip()
    return text[:limit] or type(exc).__name__

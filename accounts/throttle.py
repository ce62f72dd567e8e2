"""Login throttling and lockout, shared by every hub process through the database (issue 25 #3).

Failed logins (the admin and inbox login forms, API tokens over HTTP, `/ws/im/` handshakes) are recorded
with the source address and logged at WARNING. A source is locked out for the window once it has
`IMHUB_LOGIN_FAILURES_PER_USER` failures for one user name, or `IMHUB_LOGIN_FAILURES_PER_ADDRESS` failures
in all, within `IMHUB_LOGIN_LOCKOUT_SECONDS`: its attempts are answered 429 with `Retry-After` (WebSocket:
close 4429) without checking the credential. A successful login clears that user's failures from that
address. The address is the peer's, or the last `X-Forwarded-For` hop when the peer is one of
`IMHUB_TRUSTED_PROXIES`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

logger = logging.getLogger("accounts.throttle")

LOGIN_PATHS = ("/admin/login/", "/inbox/login/")
_last_cleanup = 0.0


def client_address(remote_addr: str, forwarded_for: str = "") -> str:
    """The client's address: the peer, or the last X-Forwarded-For hop behind a trusted proxy."""
    if remote_addr in settings.IMHUB_TRUSTED_PROXIES and forwarded_for:
        return forwarded_for.split(",")[-1].strip()[:64] or remote_addr
    return (remote_addr or "?")[:64]


def request_address(request: HttpRequest) -> str:
    return client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def locked_for(*, address: str, username: str = "") -> int:
    """Seconds until `address` (for `username`) may try again; 0 when it may now."""
    from accounts.models import LoginFailure

    window = settings.IMHUB_LOGIN_LOCKOUT_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    recent = LoginFailure.objects.filter(address=address, at__gte=since)
    waits = []
    limit = settings.IMHUB_LOGIN_FAILURES_PER_ADDRESS
    times = list(recent.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) >= limit:
        waits.append(times[-1])
    if username:
        per_user = settings.IMHUB_LOGIN_FAILURES_PER_USER
        times = list(recent.filter(username=username).order_by("-at").values_list("at", flat=True)[:per_user])
        if len(times) >= per_user:
            waits.append(times[-1])
    if not waits:
        return 0
    oldest_counted = min(waits)
    return max(1, int((oldest_counted + timedelta(seconds=window) - timezone.now()).total_seconds()) + 1)


def login_failed(*, address: str, username: str, via: str) -> None:
    """Record a failed login and log it with its source address."""
    global _last_cleanup
    from accounts.models import LoginFailure

    LoginFailure.objects.create(address=address, username=username[:150], via=via)
    logger.warning("failed login via %s for user %r from %s", via, username[:150], address)
    if time.monotonic() - _last_cleanup > 60:  # keep the table small
        _last_cleanup = time.monotonic()
        old = timezone.now() - timedelta(seconds=settings.IMHUB_LOGIN_LOCKOUT_SECONDS * 2)
        LoginFailure.objects.filter(at__lt=old).delete()


def login_succeeded(*, address: str, username: str) -> None:
    from accounts.models import LoginFailure

    LoginFailure.objects.filter(address=address, username=username).delete()


def too_many(retry_after: int) -> HttpResponse:
    response = HttpResponse(
        f"Too many failed logins from this address; try again in {retry_after} s.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    return response


class LoginThrottleMiddleware:
    """Answers a locked-out source's POST to a login form with 429 before the form checks anything."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            username = str(request.POST.get("username", ""))[:150]
            wait = locked_for(address=request_address(request), username=username)
            if wait:
                logger.warning(
                    "login refused (locked out) for user %r from %s", username, request_address(request)
                )
                return too_many(wait)
        return self.get_response(request)


def throttle_connect_signals() -> None:
    """Record the login forms' failures and clear a user's on success (called once at start)."""
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    def failed(
        sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_kw: Any
    ) -> None:
        if request is None:
            return
        login_failed(
            address=request_address(request), username=str(credentials.get("username", "")), via="form"
        )

    def succeeded(sender: Any, request: HttpRequest | None = None, user: Any = None, **_kw: Any) -> None:
        if request is not None and user is not None:
            login_succeeded(address=request_address(request), username=user.get_username())

    user_login_failed.connect(failed, weak=False, dispatch_uid="imhub-login-failed")
    user_logged_in.connect(succeeded, weak=False, dispatch_uid="imhub-login-succeeded")

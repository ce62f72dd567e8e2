"""Who is asking: DRF token and Django session users, each cached for a few seconds per process.

One path for HTTP and WebSocket: the read lane and the agents' WebSocket (``InboxConsumer``) both ask
``credentials_user`` (the session cookie first, then an ``Authorization: Token`` header, DRF's order);
the DRF viewsets use ``CachedTokenAuthentication`` over the same token cache.

Every IM request otherwise costs database queries before the store is touched (the token or session
row, the user row), several times the store query itself. The answers are cached for ``TTL`` seconds,
so a revoked token, a deleted session or a deactivated user takes effect within that time in every
process (at once in this process for a logout: ``user_logged_out`` drops the session's entry).

The session rules are Django's own (``django.contrib.auth.get_user``: the session's backend, the user's
session hash, inactive users refused) and DRF's (``SessionAuthentication``: active users only); only
authenticated answers are cached, so an anonymous or expired session always goes to Django and DRF.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections
from django.http.cookie import parse_cookie
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from datasync.im.api.ttlcache import TtlCache

TTL = 5.0

token_cache = TtlCache(TTL)
session_cache = TtlCache(TTL)


class CachedTokenAuthentication(TokenAuthentication):
    """DRF token authentication with the (user, token) pair cached for TTL seconds per process; a
    source locked out by failed logins is answered 429 (`accounts.throttle`), a wrong token recorded."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        from accounts.throttle import locked_for, login_failed, request_address

        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("token "):
            return None
        key = header.split()[-1]
        if token_cache.get(key) is not None:
            return token_cache.get(key)  # type: ignore[no-any-return]
        address = request_address(request)
        wait = locked_for(address=address)
        if wait:
            raise Throttled(wait=wait, detail="Too many failed logins from this address.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            login_failed(address=address, username="", via="token")
            raise

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        cached = token_cache.get(key)
        if cached is not None:
            return cached
        pair = super().authenticate_credentials(key)
        token_cache.put(key, pair)
        return pair


_token_authentication = CachedTokenAuthentication()


def stale_grace() -> float:
    """How long an expired cached credential or visibility may still answer while the database is
    down (``IMHUB_STALE_AUTH_SECONDS``): reads go on from memory, bounded in time."""
    from django.conf import settings

    return float(settings.IMHUB_STALE_AUTH_SECONDS)


def token_user(key: str) -> Any:
    """The active user of a DRF token, or None (blocking on a cache miss: call in a thread). With the
    database down, a recently cached answer stands in (``stale_grace``); else the error is raised."""
    cached = token_cache.get(key)
    if cached is not None:
        return cached[0]
    try:
        return _token_authentication.authenticate_credentials(key)[0]
    except AuthenticationFailed:
        return None
    except DatabaseError:
        stale = token_cache.get_stale(key, stale_grace())
        if stale is None:
            raise
        return stale[0]


class _SessionRequest:
    """The part of an HttpRequest that ``django.contrib.auth.get_user`` reads."""

    def __init__(self, session: Any) -> None:
        self.session = session


def session_user(session_key: str) -> Any:
    """The active user logged in under a Django session key, or None (blocking: call in a thread)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    cached = session_cache.get(session_key)
    if cached is not None:
        return cached
    engine = import_module(settings.SESSION_ENGINE)
    try:
        user = get_user(_SessionRequest(engine.SessionStore(session_key)))  # type: ignore[arg-type]
    except DatabaseError:
        stale = session_cache.get_stale(session_key, stale_grace())
        if stale is None:
            raise
        return stale
    if not user.is_authenticated or not user.is_active:
        return None
    session_cache.put(session_key, user)
    return user


def session_forget(*, sender: Any = None, request: Any = None, **_kwargs: Any) -> None:
    """``user_logged_out`` receiver: the logged-out session stops answering in this process at once."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        session_cache.pop(key)


def auth_connect_signals() -> None:
    from django.contrib.auth.signals import user_logged_out

    user_logged_out.connect(session_forget, dispatch_uid="imhub-session-forget")


def run_blocking(fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Run a database lookup off the event loop (Django's sync thread), closing stale connections."""

    def run() -> Any:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=True)()


async def credentials_user(*, cookie: str, authorization: str) -> tuple[Any, str | None]:
    """The active user a request's credentials name, and how: ``(user, "session")`` from the session
    cookie, else ``(user, "token")`` from ``Authorization: Token <key>``, else ``(None, None)``.
    Cache hits cost no thread hop; a miss is looked up in Django's sync thread."""
    from django.conf import settings

    if cookie:
        key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME)
        if key:
            user = session_cache.get(key)
            if user is None:
                user = await run_blocking(session_user, key)
            if user is not None:
                return user, "session"
    if authorization:
        parts = authorization.split()
        if len(parts) == 2 and parts[0].lower() == "token":
            cached = token_cache.get(parts[1])
            user = cached[0] if cached is not None else await run_blocking(token_user, parts[1])
            if user is not None:
                return user, "token"
    return None, None

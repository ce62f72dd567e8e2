"""The ASGI read lane: the IM API's GET routes answered from the DataStore without Django's request path.

Django's ASGI request path (request object, middleware, DRF negotiation and rendering, the sync view in
a thread) costs 20-50 times the store query; this lane sits in front of Django in ``imhub/asgi.py`` and
answers ``GET`` on the read routes (``routes.lane_routes``: the IM viewsets' reads, found through the
router) for JSON clients, authenticated by a DRF token or a
Django session, with exactly what the DRF viewsets return: the same query functions, the same error
translation (``errors.im_error_parts``), the same JSON bytes and headers, the same pagination links
(``tests/datasync/im/test_read_lane.py`` compares both paths byte for byte).

Everything it is not sure about goes to Django unchanged: other methods and paths, the browsable API
(``Accept`` naming HTML or anything but JSON, a ``format`` parameter), a host Django would refuse, a
request without valid credentials (Django and DRF answer it, with their own error and cookie handling),
a store still loading, a request Django would redirect to HTTPS (``SECURE_SSL_REDIRECT``).

Behind a reverse proxy the lane trusts what Django trusts, no more: the header named by
``SECURE_PROXY_SSL_HEADER`` (e.g. ``X-Forwarded-Proto``) sets the scheme exactly as Django's
``request.scheme`` does (next links, HSTS); ``X-Forwarded-Host`` and ``X-Forwarded-Port`` (which
Django may apply, by ``USE_X_FORWARDED_HOST`` / ``_PORT``) send the request to Django; any other
``X-Forwarded-*`` (``For``) is ignored, as Django ignores it. A header name with ``_`` goes to Django
(Django reads it as the ``-`` spelling). docs/operations.md and docs/nginx/imhub.conf set a proxy up so. Database lookups (token, session, team visibility, account rows) happen only on
a cache miss, in a thread, never on the event loop. Each answered request is timed into the same API
latency histogram as Django's routes (``observe``, given by ``imhub/asgi.py``; the label is the route
pattern Django resolves for the same path).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.utils.encoding import escape_uri_path, iri_to_uri
from rest_framework.utils.urls import replace_query_param

from datasync.im.api.auth import credentials_user, run_blocking
from datasync.im.api.errors import im_error_parts
from datasync.im.api.render import json_bytes
from datasync.im.api.routes import Route, Routes, lane_routes
from datasync.im.api.visibility import account_directory, visible_account_ids_async
from datasync.stats import stats_lane

logger = logging.getLogger(__name__)

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Observe = Callable[[str, str, int, float], None]  # (method, route label, status, seconds)
_JSON_ACCEPT = frozenset({"", "*/*", "application/json", "application/*"})


_CURSOR_MARK = "imhubcursormark"
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote_plus leaves as it is (store cursors are base64url)
_RESPONSE_HEADERS = (  # DRF's (Vary with SessionMiddleware's Cookie merged in), then X-Frame-Options
    (b"Content-Type", b"application/json"),
    (b"Vary", b"Accept, Cookie"),
    (b"Allow", b"GET, HEAD, OPTIONS"),
    (b"X-Frame-Options", b"DENY"),
)
_SECURITY_HEADERS = (
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"same-origin"),
    (b"Cross-Origin-Opener-Policy", b"same-origin"),
)


_HOST_CHANGING = frozenset({b"x-forwarded-host", b"x-forwarded-port"})


def _hsts_value() -> str:
    """SecurityMiddleware's Strict-Transport-Security value (it adds it to secure responses)."""
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


def _accept_is_json(accept: str) -> bool:
    """True when DRF's content negotiation would pick its JSON renderer for this Accept header."""
    if accept in _JSON_ACCEPT:
        return True
    return all(part.strip() in _JSON_ACCEPT for part in accept.split(","))


class ReadLane:
    """ASGI middleware: the IM read routes for JSON clients here, everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, observe: Observe | None = None) -> None:
        self.app = app
        self.observe = observe
        self._hosts: dict[str, bool] = {}
        self._routes: Routes | None = None
        self._next_templates: dict[tuple[str, str, str, str], str] = {}
        self._proxy_header: tuple[Any, bytes, str] | None = None
        # answers of versioned reads (``ReadQuery.version``): key -> (version, body); see _answer
        self._bodies: dict[tuple[Any, ...], tuple[int, bytes]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if self._routes is None:
            self._routes = lane_routes()  # the URL configuration is loaded by now (first request)
        matched = self._routes.match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        answered = await self._answer(scope, send, matched, started)
        stats_lane(answered=answered)
        if not answered:
            await self.app(scope, receive, send)

    # ---- the lane ------------------------------------------------------------------------------------

    async def _answer(
        self, scope: dict[str, Any], send: Any, matched: tuple[Route, str | None], started: float
    ) -> bool:
        """Answer the request and return True, or return False (nothing sent) to hand it to Django."""
        from datasync.runtime import runtime

        if not runtime.ready or scope.get("root_path"):
            return False
        accept = authorization = cookie = host = ""
        proxy_header, secure_value = self._proxy_ssl_header()
        proto: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
            elif name == proxy_header:
                if proto is not None:
                    return False  # repeated: Django joins the values; let it
                proto = value
            elif name in _HOST_CHANGING or b"_" in name:
                return False  # may change the host Django sees (by its settings): let Django apply them
        if not _accept_is_json(accept):
            return False
        if proto is not None:  # Django's request.scheme: the first value before a comma, stripped
            scheme = "https" if proto.split(b",", 1)[0].strip().decode("latin-1") == secure_value else "http"
        else:
            scheme = scope.get("scheme", "http")
        if scheme != "https" and settings.SECURE_SSL_REDIRECT:
            return False  # SecurityMiddleware redirects it
        raw_query = scope.get("query_string", b"")
        query_string = raw_query.decode("latin-1") if isinstance(raw_query, bytes) else raw_query
        q = dict(parse_qsl(query_string, keep_blank_values=True))
        if "format" in q or query_string.count("&") >= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            return False
        if not host:
            server = scope.get("server") or ("", None)
            host = f"{server[0]}:{server[1]}" if server[1] not in (None, 80, 443) else str(server[0])
        if not self._host_allowed(host):
            return False
        try:
            user, _how = await credentials_user(cookie=cookie, authorization=authorization)
            if user is None:
                return False
            visible = await visible_account_ids_async(user)
        except DatabaseError as exc:
            # the database is down and these credentials were not seen recently: a clear 503, fast
            down = im_error_parts(exc) or (503, {}, {})
            await self._send(send, down[0], json_bytes(down[1]), down[2])
            return True
        route, pk = matched
        if (route.read.directory or visible is None) and not account_directory.fresh:
            await run_blocking(account_directory.refresh)
        hsts = _hsts_value() if scheme == "https" and settings.SECURE_HSTS_SECONDS else None
        read = route.read
        cache_key: tuple[Any, ...] | None = None
        if read.version is not None:
            # the same answer for the same reader and request until the data's version changes (read
            # before the query: a body stored under it is at least as new as it)
            version = read.version()
            cache_key = (route.label, pk, visible, user.pk if read.user else None, scheme, host, query_string)
            kept = self._bodies.get(cache_key)
            if kept is not None and kept[0] == version:
                await self._send(send, 200, kept[1], {}, hsts)
                if self.observe is not None:
                    self.observe("GET", route.label, 200, time.perf_counter() - started)
                return True
        kwargs: dict[str, Any] = {"pk": pk} if route.detail else {}
        if read.user:
            kwargs["user_id"] = user.pk
        extra: dict[str, str] = {}
        try:
            out = read.fn(store=runtime.store, q=q, visible=visible, **kwargs)
            status = 200
            if read.page:
                results, nxt = out
                out = {
                    "results": results,
                    "next": self._next_url(scope, scheme, host, query_string, nxt),
                    "next_cursor": nxt,
                }
        except Exception as exc:
            parts = im_error_parts(exc)
            if parts is None:
                logger.exception("read lane failed on %s", scope["path"])
                return False  # Django answers (and reports) it the usual way
            status, out, extra = parts
        body = json_bytes(out)
        if cache_key is not None and status == 200 and not extra:
            if len(self._bodies) >= 1024:
                self._bodies.clear()
            self._bodies[cache_key] = (version, body)
        await self._send(send, status, body, extra, hsts)
        if self.observe is not None:
            self.observe("GET", route.label, status, time.perf_counter() - started)
        return True

    def _proxy_ssl_header(self) -> tuple[bytes | None, str]:
        """``SECURE_PROXY_SSL_HEADER`` as (the ASGI header name, the secure value), or (None, "")."""
        setting = settings.SECURE_PROXY_SSL_HEADER
        if not setting:
            return None, ""
        cached = self._proxy_header
        if cached is None or cached[0] != setting:
            meta, secure_value = setting
            name = meta.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
            cached = self._proxy_header = (setting, name, secure_value)
        return cached[1], cached[2]

    def _host_allowed(self, host: str) -> bool:
        allowed = self._hosts.get(host)
        if allowed is None:
            domain, _port = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
            if len(self._hosts) < 1000:
                self._hosts[host] = allowed
        return allowed

    def _next_url(
        self, scope: dict[str, Any], scheme: str, host: str, query_string: str, cursor: str | None
    ) -> str | None:
        """DRF's next link: ``request.build_absolute_uri()`` with ``cursor`` replaced (through
        ``replace_query_param``, whose output for one URL differs only in the quoted cursor value, so
        it is computed once per URL with a marker and the marker replaced per request)."""
        if cursor is None:
            return None
        key = (scheme, host, scope["path"], query_string)
        template = self._next_templates.get(key)
        if template is None:
            location = escape_uri_path(scope["path"]) + (
                f"?{iri_to_uri(query_string)}" if query_string else ""
            )
            url = iri_to_uri(f"{key[0]}://{host}{location}")
            if _CURSOR_MARK in url:  # the marker could not be told apart: no template for this URL
                return replace_query_param(url, "cursor", cursor)
            template = replace_query_param(url, "cursor", _CURSOR_MARK)
            if len(self._next_templates) >= 4096:
                self._next_templates.clear()
            self._next_templates[key] = template
        return template.replace(_CURSOR_MARK, cursor if _URL_SAFE.fullmatch(cursor) else quote_plus(cursor))

    async def _send(
        self, send: Any, status: int, body: bytes, extra: dict[str, str], hsts: str | None = None
    ) -> None:
        # Django's order and spelling: the response's own headers (DRF's, then the extra ones such as
        # Retry-After), the middleware's in reverse order of MIDDLEWARE (clickjacking, common, security)
        headers = [
            *_RESPONSE_HEADERS,
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()),
            (b"Content-Length", str(len(body)).encode()),
            *(((b"Strict-Transport-Security", hsts.encode("latin-1")),) if hsts else ()),
            *_SECURITY_HEADERS,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def read_lane(app: ASGIApp, *, observe: Observe | None = None) -> ASGIApp:
    """Wrap the HTTP application with the read lane (``IMHUB_READ_LANE=0`` leaves it out); ``observe``
    records each answered request's latency (the hub passes its API latency histogram)."""
    if not settings.IMHUB_READ_LANE:
        return app
    return ReadLane(app, observe=observe)

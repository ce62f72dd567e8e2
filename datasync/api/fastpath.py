"""WSGI fast path for the IM API's read-only list routes, for token clients.

Django + DRF cost several times the store query per request (middleware, content negotiation,
renderers). Under WSGI this middleware answers ``GET`` on the list routes of ``queries.LIST_QUERIES``
/ ``OBJECT_QUERIES`` with an ``Authorization: Token`` header itself: the same token check (DRF's, with
the same 5 s cache), the same parameter parsing, visibility check and store query, the same JSON body
and errors. Everything else (sessions, writes, detail routes, docs) goes to Django unchanged.
Not covered here: Django's per-request middleware (the API latency histogram does not count these).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from django.db import close_old_connections
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.utils.urls import replace_query_param

from datasync.api.access import im_store
from datasync.api.auth import CachedTokenAuthentication, token_cache
from datasync.api.errors import im_error_parts
from datasync.api.queries import LIST_QUERIES, OBJECT_QUERIES

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}
_STATUS[503] = "503 Service Unavailable"
_authentication = CachedTokenAuthentication()


def _json(
    start_response: Callable[..., Any], code: int, body: Any, headers: dict[str, str] | None = None
) -> list[bytes]:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    start_response(
        _STATUS.get(code, f"{code} Error"),
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Vary", "Accept, Authorization"),
            *(headers or {}).items(),
        ],
    )
    return [payload]


def _user_for(key: str) -> Any:
    cached = token_cache.get(key)
    if cached is not None:
        return cached[0]
    close_old_connections()
    try:
        return _authentication.authenticate_credentials(key)[0]
    finally:
        close_old_connections()


def _server_host(environ: dict[str, Any], scheme: str) -> str:
    """Host without a Host header, as Django builds it (the default port is left out)."""
    port = str(environ.get("SERVER_PORT", ""))
    default = "443" if scheme == "https" else "80"
    return str(environ.get("SERVER_NAME", "")) + ("" if port in ("", default) else f":{port}")


def fastpath_wsgi(app: WsgiApp) -> WsgiApp:
    """Wrap a WSGI app: IM list routes for token clients are answered here, the rest by ``app``."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        list_query = LIST_QUERIES.get(path)
        object_query = OBJECT_QUERIES.get(path)
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not auth.startswith("Token ")
            or not (list_query or object_query)
        ):
            return app(environ, start_response)
        try:
            user = _user_for(auth[6:].strip())
        except AuthenticationFailed as exc:
            return _json(start_response, 401, {"detail": str(exc.detail)}, {"WWW-Authenticate": "Token"})
        query_string = environ.get("QUERY_STRING", "")
        q = dict(parse_qsl(query_string, keep_blank_values=True))
        try:
            store = im_store()
            if object_query is not None:
                return _json(start_response, 200, object_query(store=store, q=q, user=user))
            results, nxt = list_query(store=store, q=q, user=user)  # type: ignore[misc]
        except Exception as exc:
            parts = im_error_parts(exc)
            if parts is None:
                logger.exception("IM fast path failed on %s", path)
                return _json(start_response, 500, {"detail": "internal error"})
            return _json(start_response, *parts)
        next_url = None
        if nxt is not None:
            scheme = environ.get("wsgi.url_scheme", "http")
            host = environ.get("HTTP_HOST") or _server_host(environ, scheme)
            url = f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}{path}"
            next_url = replace_query_param(f"{url}?{query_string}" if query_string else url, "cursor", nxt)
        return _json(start_response, 200, {"results": results, "next": next_url, "next_cursor": nxt})

    return wrapped

"""Minimal HTTP request/response types over raw ASGI (no framework)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str  # raw (percent-encoded) path
    query: str  # raw query string
    headers: dict[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_scope(cls, scope: dict[str, Any], body: bytes) -> Request:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        return cls(
            method=scope["method"].upper(),
            path=raw_path.decode("latin-1").split("?", 1)[0],
            query=query,
            headers=headers,
            body=body,
            params=params,
        )

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is treated as no cookies
            return {}
        return {key: morsel.value for key, morsel in jar.items()}

    @property
    def host(self) -> str:
        return self.headers.get("host", "127.0.0.1").rsplit(":", 1)[0].strip("[]")

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or form fields; {} when empty."""
        if not self.body:
            return {}
        if "application/x-www-form-urlencoded" in self.headers.get("content-type", ""):
            return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds the app waits before answering (the slow-answers fault)

    def set_cookie(
        self, name: str, value: str, *, max_age: int | None = None, http_only: bool = True
    ) -> None:
        parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if http_only:
            parts.append("HttpOnly")
        self.headers.append(("set-cookie", "; ".join(parts)))


def json_response(payload: Any, *, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(payload, ensure_ascii=False).encode())


def html_response(text: str, *, status: int = 200) -> Response:
    return Response(status=status, body=text.encode(), content_type="text/html; charset=utf-8")


def redirect(location: str, *, status: int = 302) -> Response:
    return Response(status=status, headers=[("location", location)], content_type="text/plain")


def empty_response() -> Response:
    return Response(status=200, body=b"", content_type="application/json; charset=utf-8")

"""The hub's Content-Security-Policy: every HTML page (inbox, desk, admin, API docs) runs only this
site's own scripts (no inline script, no CDN), connects only to this site (its WebSockets included),
and shows images only from itself, data URLs (QR codes) and the platform's image hosts
(``IMHUB_IMAGE_HOSTS``), so a fan's avatar URL cannot make an agent's browser call a host of the fan's
choosing. JSON answers (the IM API, the read lane) carry no policy: they are not documents.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy() -> str:
    images = " ".join(settings.IMHUB_IMAGE_HOSTS)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            # the admin and Swagger UI set style attributes; styles cannot run code
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {images}".strip(),
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every HTML response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.get("Content-Type", "").startswith("text/html")
            and "Content-Security-Policy" not in response
        ):
            response["Content-Security-Policy"] = self.policy
        return response

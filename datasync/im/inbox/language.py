"""The inbox's language: Simplified Chinese by default, English on request (``?lang=`` or a cookie).

Only the inbox's own views switch language (``translation.override``); the API and admin keep the
project's language, so their texts never change because an agent chose English here.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

INBOX_LANGUAGES: dict[str, str] = {"zh-hans": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh-hans"
LANGUAGE_COOKIE = "imhub_inbox_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def inbox_language_get(request: HttpRequest) -> tuple[str, bool]:
    """The language for this request, and whether it was chosen now (``?lang=``) and wants saving."""
    asked = (request.GET.get("lang") or "").lower()
    if asked in INBOX_LANGUAGES:
        return asked, True
    saved = (request.COOKIES.get(LANGUAGE_COOKIE) or "").lower()
    return (saved if saved in INBOX_LANGUAGES else DEFAULT_LANGUAGE), False


def inbox_language_remember(response: Any, *, language: str) -> Any:
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return response

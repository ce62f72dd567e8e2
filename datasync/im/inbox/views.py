"""Inbox views: login, logout and the page. Thin: pick the language, render, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import translation

from datasync.im.inbox.language import INBOX_LANGUAGES, inbox_language_get, inbox_language_remember
from datasync.im.inbox.strings import inbox_strings

MODULES = tuple(
    f"inbox/{name}.js"
    for name in (
        "main", "i18n", "api", "dom", "live", "accounts", "contexts", "list", "works", "thread", "detail", "reply", "media"
    )
)  # fmt: skip


class _InboxLanguageMixin:
    """Render the view in the inbox's language and remember an explicit choice."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language, chosen = inbox_language_get(request)
        with translation.override(language):
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return inbox_language_remember(response, language=language) if chosen else response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["languages"] = INBOX_LANGUAGES
        return context


class InboxLoginView(_InboxLanguageMixin, auth_views.LoginView):
    """Django's login with the inbox's page; an agent already logged in goes straight to the inbox."""

    template_name = "inbox/login.html"
    redirect_authenticated_user = True
    next_page = "inbox"  # a URL name: Django resolves it


class InboxLogoutView(_InboxLanguageMixin, auth_views.LogoutView):
    """Django's logout (POST), back to the inbox's login page."""

    next_page = "inbox-login"


def in_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language, chosen = inbox_language_get(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        return inbox_language_remember(response, language=language) if chosen else response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def page_config(request: HttpRequest, *, api: str) -> dict[str, Any]:
    """What an agent page's scripts read first (``inbox-config``): language, user, time zone, the API
    prefix their paths are relative to, and the live events' socket (the inbox's and the desk's)."""
    return {
        "language": translation.get_language(),
        "user": {"id": request.user.pk, "username": request.user.get_username()},
        "time_zone": "Asia/Shanghai",
        "api": api,
        "ws": "/ws/im/",
    }


@in_language
@login_required(login_url=reverse_lazy("inbox-login"))
def inbox_page(request: HttpRequest) -> HttpResponse:
    """The inbox page: the shell and its strings; the modules load everything else over the IM API."""
    return render(
        request,
        "inbox/index.html",
        {
            "config": page_config(request, api="/api/im/"),
            "strings": inbox_strings(),
            "languages": INBOX_LANGUAGES,
            "modules": MODULES,
        },
    )

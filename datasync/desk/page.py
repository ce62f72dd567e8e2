"""The desk page: the shell and its strings; the modules load everything else over the desk and IM APIs.

Login, logout and the language choice are the inbox's (one session for both pages)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from datasync.desk.strings import desk_strings
from datasync.im.inbox.language import INBOX_LANGUAGES
from datasync.im.inbox.strings import inbox_strings
from datasync.im.inbox.views import in_language, page_config

MODULES = tuple(f"desk/{name}.js" for name in ("main", "queue", "thread", "notify", "canned")) + tuple(
    f"inbox/{name}.js" for name in ("i18n", "api", "dom", "live", "media")
)


@in_language
@login_required(login_url=reverse_lazy("inbox-login"))
def desk_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "desk/index.html",
        {
            "config": page_config(request, api="/api/"),
            "strings": {**inbox_strings(), **desk_strings()},
            "languages": INBOX_LANGUAGES,
            "modules": MODULES,
        },
    )

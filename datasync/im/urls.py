"""The IM app's HTTP routes (included at the site root by imhub.urls): the IM API under /api/ and
the inbox page under /inbox/."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/", include("datasync.im.api.urls")),
    path("inbox/", include("datasync.im.inbox.urls")),
]

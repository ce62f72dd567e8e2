"""The desk's HTTP routes (included at the site root by imhub.urls): its API under /api/desk/ and the
desk page at /desk/."""

from __future__ import annotations

from django.urls import include, path

from datasync.desk.page import desk_page

urlpatterns = [
    path("api/", include("datasync.desk.api.urls")),
    path("desk/", desk_page, name="desk"),
]

"""Inbox routes, mounted at ``/inbox/`` by imhub.urls."""

from __future__ import annotations

from django.urls import path

from datasync.im.inbox import views

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("login/", views.InboxLoginView.as_view(), name="inbox-login"),
    path("logout/", views.InboxLogoutView.as_view(), name="inbox-logout"),
]

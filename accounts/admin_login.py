"""The admin's QR login page for one account, and the JSON it polls every second.

GET shows the page (with the latest session, if any); POST starts a new session. The page polls
`.../login/<session_id>/status/` until the session is final (success, failed or timeout).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts import services
from accounts.badges import badge
from accounts.models import Account, LoginSession


def login_session_data(*, session: LoginSession) -> dict[str, Any]:
    """What the login page shows: status, message, QR image, expiry (no account secrets)."""
    return {
        "id": str(session.id),
        "status": session.status,
        "status_label": session.get_status_display(),
        "badge": str(badge("session", session.status, session.get_status_display())),
        "is_final": session.is_final,
        "message": session.message,
        "qr_image": session.qr_image,
        "expires_at": session.expires_at.isoformat(),
        "login_status": session.account.login_status,
    }


def account_login_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """The login page (GET) or start a login and come back to it (POST)."""
    account = get_object_or_404(Account, pk=account_id)
    page = reverse("admin:accounts_account_login", args=[account.pk])
    if request.method == "POST":
        started = services.login_start(account=account, user=request.user)
        return redirect(f"{page}?session={started.id}")
    session: LoginSession | None = None
    session_uuid = _uuid_or_none(request.GET.get("session") or "")
    if session_uuid is not None:
        session = LoginSession.objects.filter(pk=session_uuid, account=account).first()
    if session is None:
        session = account.login_sessions.order_by("-created_at").first()
    if session is not None:
        session = services.login_session_refresh(session=session)
    context = {
        **admin.site.each_context(request),
        "title": f"QR login: {account}",
        "account": account,
        "session": session,
        "session_data": login_session_data(session=session) if session else None,
        "status_url": (
            reverse("admin:accounts_account_login_status", args=[account.pk, session.id]) if session else ""
        ),
        "opts": Account._meta,
        "has_view_permission": True,
    }
    return TemplateResponse(request, "admin/accounts/account/login.html", context)


def account_login_status_view(request: HttpRequest, account_id: int, session_id: str) -> JsonResponse:
    """The session's current state as JSON (staff only, via admin_view)."""
    session_uuid = _uuid_or_none(session_id)
    if session_uuid is None:
        raise Http404("no such login session")
    session = get_object_or_404(LoginSession, pk=session_uuid, account_id=account_id)
    return JsonResponse(login_session_data(session=services.login_session_refresh(session=session)))


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None

"""Admin actions on accounts and workers; each calls one `accounts.services` function and records
a LogEntry, so every change made from the admin is visible in its history.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from accounts import services


def _run_each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, fn: Any, verb: str
) -> None:
    done, refused = 0, []
    for account in queryset:
        try:
            fn(account=account)
            done += 1
            modeladmin.log_change(request, account, f"{verb} (admin action)")
        except services.AccountsError as exc:
            refused.append(f"{account}: {exc.message}")
    if done:
        modeladmin.message_user(request, f"{verb} {done} account(s).", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.WARNING)


@admin.action(description="Pause (revoke from its worker)")
def pause_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _run_each(modeladmin, request, queryset, services.account_pause, "Paused")


@admin.action(description="Resume (assign to a worker)")
def resume_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _run_each(modeladmin, request, queryset, services.account_resume, "Resumed")


@admin.action(description="Reassign to another worker (new epoch)")
def reassign_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _run_each(modeladmin, request, queryset, services.account_reassign, "Reassigned")


@admin.action(description="Request a full resync")
def resync_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _run_each(modeladmin, request, queryset, services.account_request_resync, "Requested a resync of")


@admin.action(description="Start QR login")
def start_login(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponseRedirect | None:
    accounts = list(queryset[:2])
    if len(accounts) != 1:
        modeladmin.message_user(request, "Select exactly one account to log in.", messages.WARNING)
        return None
    session = services.login_start(account=accounts[0], user=request.user)
    page = reverse("admin:accounts_account_login", args=[accounts[0].pk])
    return HttpResponseRedirect(f"{page}?session={session.id}")


@admin.action(description="Regenerate token (shown once)")
def regenerate_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for worker in queryset:
        token = services.worker_token_regenerate(worker=worker)
        modeladmin.log_change(request, worker, "Token regenerated")
        modeladmin.message_user(
            request, f"New token for {worker.worker_id} (shown only now, copy it): {token}", messages.WARNING
        )


@admin.action(description="Revoke token (worker goes offline, accounts move)")
def revoke_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for worker in queryset:
        services.worker_token_revoke(worker=worker)
        modeladmin.log_change(request, worker, "Token revoked")
    modeladmin.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)

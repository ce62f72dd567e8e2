"""Django admin for accounts, workers and login sessions.

Every change goes through `accounts.services` (so assignment, epochs and worker commands stay right).
Storage state and token hashes are never shown: the models mark them non-editable and no list,
form or read-only field includes them. A worker token is shown once, in a message, when issued.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts import services
from accounts.admin_actions import (
    pause_accounts,
    reassign_accounts,
    regenerate_tokens,
    resume_accounts,
    resync_accounts,
    revoke_tokens,
    start_login,
)
from accounts.admin_login import account_login_status_view, account_login_view
from accounts.badges import badge
from accounts.models import Account, LoginFailure, LoginSession, TeamMembershipRole, Worker

_HAS_SYNC_STATE = any(f.name == "sync_state" for f in Account._meta.get_fields())


def _age(value: Any) -> str:
    if value is None:
        return "never"
    seconds = int((timezone.now() - value).total_seconds())
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Accounts with coloured status badges, last error and sync time; actions call the services."""

    list_display = [
        "id",
        "name",
        "platform",
        "status_badge",
        "login_badge",
        "runner_badge",
        "listener_badge",
        "worker_badge",
        "epoch",
        "short_error",
        "last_sync",
        "login_link",
    ]
    list_display_links = ["id", "name"]
    list_filter = [
        "status",
        "login_status",
        ("runner_status", admin.AllValuesFieldListFilter),
        ("listener_status", admin.AllValuesFieldListFilter),
        "platform",
        "team",
        "worker",
    ]
    search_fields = ["nickname", "platform_user_id", "last_error", "=id"]
    actions = [pause_accounts, resume_accounts, reassign_accounts, resync_accounts, start_login]
    readonly_fields = [
        "login_status",
        "runner_status",
        "listener_status",
        "last_error",
        "error_count",
        "worker",
        "epoch",
        "last_status_at",
        "next_run_at",
        "last_sync",
        "has_storage_state",
    ]
    # editable fields first, then the ones workers and the hub own
    fields = [
        "platform",
        "nickname",
        "platform_user_id",
        "avatar_url",
        "status",
        "team",
        "monitor_interval",
        "write_gap",
        "write_hourly_cap",
        "write_daily_cap",
        "quiet_hours",
        *readonly_fields,
    ]
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("worker")
        return qs.select_related("sync_state") if _HAS_SYNC_STATE else qs

    def get_urls(self) -> list[Any]:
        login = self.admin_site.admin_view(account_login_view)
        status = self.admin_site.admin_view(account_login_status_view)
        return [
            path("<int:account_id>/login/", login, name="accounts_account_login"),
            path(
                "<int:account_id>/login/<str:session_id>/status/",
                status,
                name="accounts_account_login_status",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="account", ordering="nickname")
    def name(self, obj: Account) -> str:
        return obj.nickname or obj.platform_user_id or f"account #{obj.pk}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Account) -> SafeString:
        return badge("status", obj.status)

    @admin.display(description="login", ordering="login_status")
    def login_badge(self, obj: Account) -> SafeString:
        return badge("login", obj.login_status)

    @admin.display(description="runner", ordering="runner_status")
    def runner_badge(self, obj: Account) -> SafeString:
        return badge("runner", obj.runner_status)

    @admin.display(description="listener", ordering="listener_status")
    def listener_badge(self, obj: Account) -> SafeString:
        return badge("listener", obj.listener_status or "off", obj.listener_status or "not listening")

    @admin.display(description="worker", ordering="worker__worker_id")
    def worker_badge(self, obj: Account) -> SafeString:
        if obj.worker is None:
            return badge("worker", "none", "unassigned")
        return badge("worker", obj.worker.status, obj.worker.worker_id)

    @admin.display(description="last error")
    def short_error(self, obj: Account) -> str:
        return obj.last_error if len(obj.last_error) <= 80 else obj.last_error[:79] + "…"

    @admin.display(description="last sync")
    def last_sync(self, obj: Account) -> str:
        when = obj.last_sync_at
        if _HAS_SYNC_STATE:
            try:
                when = obj.sync_state.last_sync_at or when
            except ObjectDoesNotExist:
                pass
        return _age(when) if when else "never"

    @admin.display(description="storage state", boolean=True)
    def has_storage_state(self, obj: Account) -> bool:
        return obj.has_storage_state

    @admin.display(description="QR login")
    def login_link(self, obj: Account) -> SafeString:
        return format_html('<a href="{}">log in</a>', reverse("admin:accounts_account_login", args=[obj.pk]))

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        status = obj.status
        if change and "status" in form.changed_data:
            obj.status = form.initial["status"]  # the pause/resume service changes it
        super().save_model(request, obj, form, change)
        if change and "status" in form.changed_data:
            fn = services.account_pause if status == "paused" else services.account_resume
            fn(account=obj)
            obj.refresh_from_db()
        else:
            services.account_saved(account=obj)

    def delete_model(self, request: HttpRequest, obj: Account) -> None:
        services.account_delete(account=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            services.account_delete(account=account)


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    """Workers with heartbeat age, load/capacity and the stats of their last heartbeat."""

    list_display = [
        "worker_id",
        "status_badge",
        "heartbeat_age",
        "load",
        "platform_list",
        "host",
        "version",
        "stats_summary",
        "token_state",
    ]
    list_filter = ["status", "token_revoked"]
    search_fields = ["worker_id", "host"]
    actions = [regenerate_tokens, revoke_tokens]
    readonly_fields = [
        "status",
        "platforms",
        "max_accounts",
        "host",
        "version",
        "last_heartbeat_at",
        "connected_at",
        "refused_connections",
        "stats",
        "token_state",
    ]
    fields = ["worker_id", "capacity", *readonly_fields]

    @admin.display(description="refused second connections")
    def refused_connections(self, obj: Worker) -> str:
        if not obj.refused_count:
            return "none"
        return f"{obj.refused_count}, last {_age(obj.refused_at)} from {obj.refused_from or '?'}"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(held=Count("accounts"))

    def get_readonly_fields(self, request: HttpRequest, obj: Worker | None = None) -> list[str]:
        return [*self.readonly_fields, "worker_id"] if obj else list(self.readonly_fields)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Worker) -> SafeString:
        return badge("worker", obj.status)

    @admin.display(description="last heartbeat", ordering="last_heartbeat_at")
    def heartbeat_age(self, obj: Worker) -> str:
        return _age(obj.last_heartbeat_at)

    @admin.display(description="load / capacity", ordering="held")
    def load(self, obj: Worker) -> str:
        held = getattr(obj, "held", None)
        held = obj.accounts.count() if held is None else held
        return f"{held} / {services.worker_effective_capacity(worker=obj)}"

    @admin.display(description="platforms")
    def platform_list(self, obj: Worker) -> str:
        return ", ".join(obj.platforms or []) or "—"

    @admin.display(description="last stats")
    def stats_summary(self, obj: Worker) -> str:
        stats = obj.stats or {}
        parts = []
        for key, label in (
            ("active_accounts", "accounts"),
            ("browser_contexts", "contexts"),
            ("outbox_depth", "outbox"),
        ):
            if key in stats:
                parts.append(f"{label} {stats[key]}")
        if stats.get("pss_bytes"):
            parts.append(f"pss {int(stats['pss_bytes']) // (1024 * 1024)} MiB")
        if "rss_bytes" in stats:
            parts.append(f"rss {int(stats['rss_bytes']) // (1024 * 1024)} MiB")
        return ", ".join(parts) or "—"

    @admin.display(description="token")
    def token_state(self, obj: Worker) -> str:
        if obj.token_revoked:
            return "revoked"
        return "active" if obj.token_hash else "none"

    def save_model(self, request: HttpRequest, obj: Worker, form: Any, change: bool) -> None:
        if change:
            services.worker_update(worker=obj, capacity=obj.capacity)
            return
        worker, token = services.worker_create(worker_id=obj.worker_id, capacity=obj.capacity)
        obj.pk = worker.pk
        obj.refresh_from_db()
        self.message_user(
            request, f"Token for {worker.worker_id} (shown only now, copy it): {token}", messages.WARNING
        )


@admin.register(LoginSession)
class LoginSessionAdmin(admin.ModelAdmin):
    """QR login attempts (read only; start one from an account's login page)."""

    list_display = ["id", "account", "status_badge", "message", "created_by", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["account__nickname", "=id"]
    fields = ("account", "status", "message", "created_by", "created_at", "updated_at", "expires_at")
    readonly_fields = ("account", "status", "message", "created_by", "created_at", "updated_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: LoginSession) -> SafeString:
        return badge("session", obj.status)


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed logins with their source address (read-only): what the lockout counts."""

    list_display = ["at", "via", "username", "address"]
    list_filter = ["via"]
    search_fields = ["username", "address"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TeamMembershipRole)
class TeamMembershipRoleAdmin(admin.ModelAdmin):
    """A member's role in a team: read-only members see the team's accounts but never reply or change
    threads. Membership itself is the user's groups."""

    list_display = ("user", "team", "role")
    list_filter = ("role", "team")

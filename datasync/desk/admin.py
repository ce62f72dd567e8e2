"""The desk in Django admin: canned replies (edit), the audit trail and thread states (read only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from datasync.desk.models import AutoAssign, CannedReply, DeskAgent, ThreadEvent, ThreadNote, ThreadState


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ThreadEvent)
class ThreadEventAdmin(_ReadOnly):
    """Who did what to which thread: the audit view."""

    list_display = ("at", "actor", "action", "thread", "account", "data")
    list_filter = ("action", "actor", "account")
    search_fields = ("thread",)
    date_hierarchy = "at"


@admin.register(ThreadState)
class ThreadStateAdmin(_ReadOnly):
    list_display = ("account", "kind", "key", "status", "assignee", "labels", "last_agent", "updated_at")
    list_filter = ("status", "kind", "account", "assignee")
    search_fields = ("key",)


@admin.register(ThreadNote)
class ThreadNoteAdmin(_ReadOnly):
    list_display = ("created_at", "author", "thread", "text")
    search_fields = ("thread", "text")


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "title", "team", "updated_at")
    list_filter = ("team",)
    search_fields = ("shortcut", "title", "text")


@admin.register(AutoAssign)
class AutoAssignAdmin(admin.ModelAdmin):
    """Accounts whose new threads are given round robin to their available agents."""

    list_display = ("account", "enabled", "enabled_at")
    list_filter = ("enabled",)


@admin.register(DeskAgent)
class DeskAgentAdmin(_ReadOnly):
    list_display = ("user", "available", "last_seen_at", "last_assigned_at")

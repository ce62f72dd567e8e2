"""The desk's own rows: what agents set on threads, what they did (audit), notes and canned replies.

A thread is identified as in the queue (``index.thread_id``): account, kind (``dm`` / ``comment``) and
key (conversation id / top-level comment id). Only threads an agent touched have a ``ThreadState``;
every other thread is ``open`` and unassigned. Nothing here is ever overwritten by worker data.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class ThreadStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending (answered, waiting on the customer)"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


class ThreadKind(models.TextChoices):
    DM = "dm", "Private messages"
    COMMENT = "comment", "Comment thread"


class ThreadState(models.Model):
    """The status, assignee and labels agents set on one thread."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="thread_states")
    kind = models.CharField(max_length=16, choices=ThreadKind.choices)
    key = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=ThreadStatus.choices, default=ThreadStatus.OPEN)
    status_at = models.BigIntegerField(default=0, help_text="Epoch ms the status was set.")
    snoozed_until = models.BigIntegerField(null=True, blank=True, help_text="Epoch ms.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labels = models.JSONField(default=list, blank=True)
    last_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "key"], name="desk_thread_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.kind}:{self.key} {self.status}"

    @property
    def thread_id(self) -> str:
        return f"{self.account_id}:{self.kind}:{self.key}"


class ThreadEventKind(models.TextChoices):
    STATUS = "status", "Status changed"
    ASSIGN = "assign", "Assigned"
    LABELS = "labels", "Labels changed"
    READ = "read", "Marked read"
    REPLY = "reply", "Replied"
    NOTE = "note", "Private note"


class ThreadEvent(models.Model):
    """Who did what to which thread, when (the audit view; reports are computed from it)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="thread_events")
    thread = models.CharField(max_length=300, db_index=True)
    action = models.CharField(max_length=16, choices=ThreadEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="thread_events"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["action", "at"], name="desk_event_action_at")]

    def __str__(self) -> str:
        return f"{self.action} on {self.thread} by {self.actor_id}"


class ThreadNote(models.Model):
    """A private note in a thread: for the team, never sent to the platform."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="thread_notes")
    thread = models.CharField(max_length=300, db_index=True)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="thread_notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"note on {self.thread} by {self.author_id}"


class CannedReply(models.Model):
    """A team's shared snippet; ``shortcut`` is typed after ``/`` in the reply box. ``{name}`` in the
    text becomes the customer's nickname when it is used."""

    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="canned_replies")
    shortcut = models.SlugField(max_length=40)
    title = models.CharField(max_length=120, blank=True, default="")
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["team", "shortcut"], name="desk_canned_unique")]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.team_id})"


class DeskAgent(models.Model):
    """An agent's presence on the desk: available (their own switch) and seen (the page's heartbeat).

    Auto-assignment picks among agents who are available and were seen within ``ONLINE_SECONDS``.
    """

    ONLINE_SECONDS = 90

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_agent")
    available = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"desk agent {self.user_id} ({'available' if self.available else 'away'})"


class AutoAssign(models.Model):
    """Round-robin auto-assignment of one account's new open threads among its available agents."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="auto_assign")
    enabled = models.BooleanField(default=True)
    enabled_at = models.BigIntegerField(
        default=0, help_text="Epoch ms; threads waiting since before it are left to agents (the backlog)."
    )

    def __str__(self) -> str:
        return f"auto-assign account #{self.account_id}: {'on' if self.enabled else 'off'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.enabled and not self.enabled_at:
            import time

            self.enabled_at = int(time.time() * 1000)
        super().save(*args, **kwargs)


class SavedFilter(models.Model):
    """A named queue view (its parameters), the owner's own or shared with one of their teams."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_filters",
        help_text="shared with",
    )
    name = models.CharField(max_length=80)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"filter {self.name!r} of {self.owner_id}"

"""The IM app's own rows: agents' read marks and reply requests.

Kept apart from the synced Entity rows (the sync core's) so worker data can never overwrite them. Neither
table is ever pruned by the hub: read marks are the audit trail (who marked what, when) and replies are
never deleted. Both tables keep the names they had when they belonged to the `datasync` app
(`im/migrations/0001_initial.py` took them over without touching the database).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ReadMarkTarget(models.TextChoices):
    ITEMS = "items", "Items"
    CONVERSATION = "conversation", "Conversation"
    CONTENT = "content", "A work's comments"


class ReadMark(models.Model):
    """One agent's "mark read" action, shared by everyone who sees the account.

    ``items``: explicit comment or message ids (``kind`` + ``ids``); ``conversation``: every message of
    the conversation up to ``up_to``; ``content``: every comment of the work up to ``up_to`` (epoch ms).
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="read_marks")
    target = models.CharField(max_length=16, choices=ReadMarkTarget.choices)
    kind = models.CharField(
        max_length=16, blank=True, default="", help_text="comments or messages (items only)"
    )
    ids = models.JSONField(default=list, blank=True)
    conversation_id = models.CharField(max_length=255, blank=True, default="")
    content_id = models.CharField(max_length=255, blank=True, default="")
    up_to = models.BigIntegerField(null=True, blank=True, help_text="Epoch ms, inclusive.")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="read_marks"
    )
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "datasync_readmark"
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="datasync_re_account_359c23_idx")]

    def __str__(self) -> str:
        return f"read mark {self.target} on account #{self.account_id} by {self.marked_by_id}"

    def as_store_mark(self) -> dict[str, object]:
        """The shape ``DataStore.read_mark_apply`` and the ``read_mark`` fan-out take."""
        mark: dict[str, object] = {"id": self.pk, "account_id": self.account_id, "target": self.target}
        if self.target == ReadMarkTarget.ITEMS:
            mark.update(kind=self.kind, ids=list(self.ids))
        elif self.target == ReadMarkTarget.CONVERSATION:
            mark.update(conversation_id=self.conversation_id, up_to=self.up_to)
        else:
            mark.update(content_id=self.content_id, up_to=self.up_to)
        return mark


class ReplyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Posted or maybe posted, without proof either way: final, never retried by the hub; an agent's
    # retry (``retry_of``) makes the worker look for the text in the thread before posting again.
    UNKNOWN = "unknown", "Unknown"


class ReplyRequest(models.Model):
    """An agent's reply, performed by the worker holding the account; never deleted, never re-sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="replies")
    target_kind = models.CharField(max_length=16, help_text="comment, work or message")
    content_id = models.CharField(max_length=255, blank=True, default="")
    comment_id = models.CharField(max_length=255, blank=True, default="")
    conversation_id = models.CharField(max_length=255, blank=True, default="")
    text = models.TextField()
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=ReplyStatus.choices, default=ReplyStatus.PENDING)
    platform_reply_id = models.CharField(max_length=255, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    worker_id = models.CharField(max_length=100, blank=True, default="", help_text="Worker it was sent to.")
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        help_text="The earlier try (failed or unknown) that an agent retried with this one.",
    )
    attempt = models.PositiveSmallIntegerField(default=1, help_text="1 for a first try, n for the n-th.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="replies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "datasync_replyrequest"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="datasync_reply_idempotency")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="datasync_re_status_ab3d65_idx")]

    def __str__(self) -> str:
        return f"reply {self.id} ({self.status}) on account #{self.account_id}"

    @property
    def target(self) -> dict[str, str | None]:
        return {
            "kind": self.target_kind,
            "content_id": self.content_id or None,
            "comment_id": self.comment_id or None,
            "conversation_id": self.conversation_id or None,
        }

    def first_try(self) -> ReplyRequest:
        """The first try of this reply (itself unless it is a retry)."""
        reply = self
        while reply.retry_of is not None:
            reply = reply.retry_of
        return reply

    def as_status(self) -> dict[str, object]:
        """What the API returns and the ``reply_status`` fan-out carries."""
        return {
            "id": str(self.id),
            "account_id": self.account_id,
            "target": self.target,
            "text": self.text,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "retry_of": str(self.retry_of_id) if self.retry_of_id else None,
            "attempt": self.attempt,
            "platform_reply_id": self.platform_reply_id or None,
            "error_code": self.error_code or None,
            "error_message": self.error_message or None,
            "created_by": self.created_by_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "dispatched_at": self.dispatched_at.isoformat() if self.dispatched_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

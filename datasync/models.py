"""Durable truth of the hub: one row per synced entity, and per-account sync state.

An Entity row holds the full protocol record (the platform's current state after the merge) plus the
few columns needed to upsert and load it. Agent-owned state (read marks, replies) lives in the IM app's
tables (`datasync.im.models`), so worker data can never overwrite it.
"""

from __future__ import annotations

from django.db import models


class Entity(models.Model):
    """One platform entity of an account: a content, comment, conversation, message or notification."""

    # no index of its own: the unique (account, kind, platform_id) index serves every lookup by account,
    # and one index fewer is one less write per ingested row. No database constraint either: the
    # deferred foreign-key check cost PostgreSQL one lookup per inserted row at commit (~6 ms of a
    # 500-row frame). The ORM still cascades a deleted account's rows, and a sync frame writes rows
    # only under the account's row lock, which a deletion takes first (`persistence.entity_signals_connect`).
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="entities",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=16)
    platform_id = models.CharField(max_length=255)
    record = models.JSONField(help_text="The protocol record dict (platform fields only).")
    sort_at = models.BigIntegerField(null=True, blank=True, help_text="Epoch ms used for ordering.")
    parent_key = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="content_id of a comment, conversation_id of a message.",
    )
    updated_ms = models.BigIntegerField(default=0, help_text="When the hub last applied this row (epoch ms).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "platform_id"], name="datasync_entity_unique")
        ]
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.platform_id} of account #{self.account_id}"


class SyncState(models.Model):
    """Where an account's sync stream stands: seq is per account and continues across epochs."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="sync_state"
    )
    epoch = models.PositiveIntegerField(default=0, help_text="Epoch of the last applied frame.")
    last_seq = models.BigIntegerField(default=0)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    frames_applied = models.BigIntegerField(default=0)
    items_applied = models.BigIntegerField(default=0)
    items_deleted = models.BigIntegerField(default=0)
    revision = models.BigIntegerField(
        default=0,
        help_text="Bumped by every write of the account's entities (a sync frame, a sent reply's entity); "
        "a start-up snapshot of the account is used only at the same revision.",
    )

    def __str__(self) -> str:
        return f"sync state of account #{self.account_id}: seq {self.last_seq}"

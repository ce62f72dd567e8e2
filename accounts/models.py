"""The registry the whole system hangs on: creator accounts, crawler workers, QR login sessions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

from accounts.crypto import decrypt_json, encrypt_json


class Platform(models.TextChoices):
    DOUYIN = "douyin", "Douyin"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class LoginStatus(models.TextChoices):
    NOT_LOGGED_IN = "not_logged_in", "Not logged in"
    LOGGING_IN = "logging_in", "Logging in"
    LOGGED_IN = "logged_in", "Logged in"
    EXPIRED = "expired", "Expired"


# What everyone who may see an account may know of it: who it is, and how its crawling goes. The IM API's
# account rows, account events and the management API start with these (no storage state, no tokens).
ACCOUNT_IDENTITY_FIELDS = ("id", "platform", "nickname", "platform_user_id", "avatar_url", "status")
ACCOUNT_HEALTH_FIELDS = ("login_status", "runner_status", "listener_status", "last_error")
ACCOUNT_PUBLIC_FIELDS = (*ACCOUNT_IDENTITY_FIELDS, *ACCOUNT_HEALTH_FIELDS)


class AccountQuerySet(models.QuerySet["Account"]):
    def active(self) -> AccountQuerySet:
        return self.filter(status=AccountStatus.ACTIVE)

    def unassigned(self) -> AccountQuerySet:
        return self.filter(worker__isnull=True)

    def visible_to(self, user: Any) -> AccountQuerySet:
        """Superusers see every account; others the accounts whose team is one of their groups."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(team__in=user.groups.all())


def quiet_hours_validate(value: str) -> None:
    """`HH:MM-HH:MM` (start and end differ; may wrap past midnight), or empty."""
    from accounts.writepolicy import quiet_hours_parse

    try:
        quiet_hours_parse(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class Account(models.Model):
    """A monitored creator account on one platform."""

    platform = models.CharField(max_length=32, choices=Platform.choices, default=Platform.DOUYIN)
    nickname = models.CharField(max_length=200, blank=True)
    platform_user_id = models.CharField(
        max_length=200, blank=True, help_text="The platform's own id (Douyin: 抖音号), learned at login."
    )
    avatar_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    login_status = models.CharField(
        max_length=16, choices=LoginStatus.choices, default=LoginStatus.NOT_LOGGED_IN
    )
    runner_status = models.CharField(
        max_length=32, blank=True, default="", help_text="As reported by the worker."
    )
    listener_status = models.CharField(
        max_length=16,
        blank=True,
        default="",
        help_text="The worker's push listener: listening, polling, reinstalling (empty: not listening).",
    )
    last_error = models.TextField(blank=True, default="")
    error_count = models.PositiveIntegerField(default=0)
    last_status_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    worker = models.ForeignKey(
        "accounts.Worker", null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    epoch = models.PositiveIntegerField(default=0, help_text="Bumped on every (re)assignment.")
    monitor_interval = models.FloatField(default=60.0, help_text="Seconds between crawls.")
    # The account's write queue (replies): empty fields take the IMHUB_WRITE_* defaults.
    write_gap = models.FloatField(
        null=True, blank=True, help_text="Minimum seconds between two replies (empty: IMHUB_WRITE_GAP)."
    )
    write_hourly_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Replies per rolling hour at most (empty: IMHUB_WRITE_HOURLY_CAP)."
    )
    write_daily_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Replies per rolling 24 hours at most (empty: IMHUB_WRITE_DAILY_CAP).",
    )
    quiet_hours = models.CharField(
        max_length=11,
        blank=True,
        default="",
        validators=[quiet_hours_validate],
        help_text="HH:MM-HH:MM (Asia/Shanghai): replies wait until it ends (empty: IMHUB_QUIET_HOURS).",
    )
    storage_state_encrypted = models.TextField(blank=True, default="", editable=False)
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["platform", "platform_user_id"])]

    def __str__(self) -> str:
        return f"{self.nickname or self.platform_user_id or 'account'} ({self.platform} #{self.pk})"

    @property
    def has_storage_state(self) -> bool:
        return bool(self.storage_state_encrypted)

    def set_storage_state(self, value: dict[str, Any] | None) -> None:
        self.storage_state_encrypted = encrypt_json(value) if value else ""

    def get_storage_state(self) -> dict[str, Any] | None:
        return decrypt_json(self.storage_state_encrypted)


class WorkerStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Worker(models.Model):
    """A crawler worker process; authenticates with a token stored only as a hash."""

    worker_id = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    token_prefix = models.CharField(max_length=8, blank=True, default="", editable=False)
    token_revoked = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=WorkerStatus.choices, default=WorkerStatus.OFFLINE)
    capacity = models.PositiveIntegerField(default=10)
    max_accounts = models.PositiveIntegerField(
        default=0, help_text="What the worker said it can run at register (0: not reported)."
    )
    platforms = models.JSONField(default=list, blank=True)
    host = models.CharField(max_length=200, blank=True, default="")
    version = models.CharField(max_length=50, blank=True, default="")
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    # One live connection per token: the hub channel holding it now ("" when none), and the last time a
    # second connection with the token was refused (issue 25 #4).
    connection_id = models.CharField(max_length=200, blank=True, default="", editable=False)
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_from = models.CharField(max_length=100, blank=True, default="")
    refused_count = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["worker_id"]

    def __str__(self) -> str:
        return self.worker_id

    def issue_token(self) -> str:
        """Create a new token (the old one stops working); returns the plaintext, shown once."""
        token = f"imw_{secrets.token_urlsafe(32)}"
        self.token_hash = _hash_token(token)
        self.token_prefix = token[4:12]
        self.token_revoked = False
        return token

    def revoke_token(self) -> None:
        self.token_revoked = True

    def check_token(self, token: str) -> bool:
        if self.token_revoked or not self.token_hash or not token:
            return False
        return secrets.compare_digest(self.token_hash, _hash_token(token))

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_token(token)


class LoginSessionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QRCODE_READY = "qrcode_ready", "QR code ready"
    QRCODE_REFRESHED = "qrcode_refreshed", "QR code refreshed"
    SCANNED = "scanned", "Scanned"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    TIMEOUT = "timeout", "Timeout"


LOGIN_FINAL_STATUSES = {LoginSessionStatus.SUCCESS, LoginSessionStatus.FAILED, LoginSessionStatus.TIMEOUT}


class LoginSession(models.Model):
    """One QR-code login attempt for an account, driven by the worker holding it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="login_sessions")
    status = models.CharField(
        max_length=20, choices=LoginSessionStatus.choices, default=LoginSessionStatus.PENDING
    )
    qr_image = models.TextField(blank=True, default="", help_text="Latest QR image as a data URL.")
    message = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"login {self.id} for account #{self.account_id}: {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in LOGIN_FINAL_STATUSES


class LoginFailure(models.Model):
    """A failed login (form, API token or agent socket) with its source: the lockout counts these
    (accounts/throttle.py); rows older than twice the lockout window are removed."""

    username = models.CharField(max_length=150, blank=True, default="", db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    via = models.CharField(max_length=16)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["address", "at"], name="loginfailure_addr_at")]

    def __str__(self) -> str:
        return f"{self.via} {self.username or '-'} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"


class TeamRole(models.TextChoices):
    AGENT = "agent", "Agent (reads and replies)"
    READ_ONLY = "read_only", "Read-only (reads, never replies or changes threads)"


class TeamMembershipRole(models.Model):
    """A member's role in one team (a Django group); a member without a row is an agent.

    Membership itself is the user's groups: this only narrows what a member may do in that team.
    """

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="team_roles")
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="member_roles")
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.AGENT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="accounts_team_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in team {self.team_id}: {self.role}"

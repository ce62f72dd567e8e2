"""Management API serializers: what staff may read and write. No storage state, no token fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import ACCOUNT_HEALTH_FIELDS, ACCOUNT_IDENTITY_FIELDS, Account, LoginSession, Worker

# What the worker reports and the services maintain: read-only here, in this order in the output.
ACCOUNT_STATUS_FIELDS = [
    *ACCOUNT_HEALTH_FIELDS,
    "error_count",
    "last_status_at",
    "next_run_at",
    "last_sync_at",
]


class AccountSerializer(serializers.ModelSerializer[Account]):
    """An account as staff see it; status/worker/epoch change only through the service functions."""

    worker_id = serializers.SlugRelatedField(
        source="worker", slug_field="worker_id", read_only=True, allow_null=True
    )
    has_storage_state = serializers.BooleanField(read_only=True)

    class Meta:
        model = Account
        fields = [
            *ACCOUNT_IDENTITY_FIELDS,
            *ACCOUNT_STATUS_FIELDS,
            "worker_id",
            "epoch",
            "monitor_interval",
            "write_gap",
            "write_hourly_cap",
            "write_daily_cap",
            "quiet_hours",
            "team",
            "has_storage_state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*ACCOUNT_STATUS_FIELDS, "epoch", "created_at", "updated_at"]
        extra_kwargs = {
            "monitor_interval": {"min_value": 1.0, "max_value": 86400.0},
            "write_gap": {"min_value": 0.0, "max_value": 86400.0},
            "write_hourly_cap": {"min_value": 1, "max_value": 100000},
            "write_daily_cap": {"min_value": 1, "max_value": 1000000},
        }

    def to_internal_value(self, data: Any) -> Any:
        # Unknown keys are refused rather than silently ignored (a storage state never comes in here).
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            read_only = sorted(name for name in data if self.fields[name].read_only)
            if read_only:
                raise serializers.ValidationError({name: ["This field is read-only."] for name in read_only})
        return super().to_internal_value(data)


class WorkerSerializer(serializers.ModelSerializer[Worker]):
    """A worker's state: no token hash, no token prefix."""

    load = serializers.IntegerField(read_only=True)
    heartbeat_age = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = [
            "id",
            "worker_id",
            "status",
            "capacity",
            "max_accounts",
            "load",
            "platforms",
            "host",
            "version",
            "last_heartbeat_at",
            "heartbeat_age",
            "connected_at",
            "stats",
            "token_revoked",
            "created_at",
        ]
        read_only_fields = fields

    def get_heartbeat_age(self, worker: Worker) -> float | None:
        """Seconds since the last heartbeat (None if it never beat)."""
        now = self.context.get("now")
        if worker.last_heartbeat_at is None or now is None:
            return None
        return round((now - worker.last_heartbeat_at).total_seconds(), 1)


class LoginSessionSerializer(serializers.ModelSerializer[LoginSession]):
    """A QR login session with its latest QR image (a data URL)."""

    is_final = serializers.BooleanField(read_only=True)

    class Meta:
        model = LoginSession
        fields = [
            "id",
            "account",
            "status",
            "is_final",
            "qr_image",
            "message",
            "expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

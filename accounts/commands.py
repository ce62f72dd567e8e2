"""Commands to workers and account events, delivered through the channel layer.

A worker's socket is held by whichever hub process it connected to; that process's WorkerConsumer has
joined `worker_group(worker_id)` and turns each `worker.command` message (a `WorkerCommand`) into a
hub frame. Account changes go to group `imhub.accounts`, which every hub process's runtime relays to
agents.

Both are sent only after the current transaction commits, so a worker never hears of an assignment
that was rolled back. The payloads never carry secrets (storage state, tokens).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.models import ACCOUNT_PUBLIC_FIELDS

logger = logging.getLogger(__name__)

ACCOUNTS_GROUP = "imhub.accounts"
ACCOUNT_EVENT = "account.event"  # the message type of an account's state, sent to ACCOUNTS_GROUP
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

# Per-process count of deliveries that failed (the layer was down or full); shown in logs and tests.
send_failures: dict[str, int] = {"worker_command": 0, "account_event": 0}


def worker_group(worker_id: str) -> str:
    """A channel-layer group name for one worker (ASCII alphanumerics, `-`, `_`, `.`; under 100 chars).

    Ids that needed sanitising or shortening get a hash suffix so two different ids never share a group.
    """
    safe = _UNSAFE.sub("_", worker_id)
    if safe != worker_id or len(safe) > 60:
        digest = hashlib.sha256(worker_id.encode()).hexdigest()[:12]
        safe = f"{safe[:60]}.{digest}"
    return f"worker.{safe}"


WORKER_COMMAND = "worker.command"  # the message type a WorkerConsumer handles (its `worker_command`)


@dataclass(frozen=True)
class WorkerCommand:
    """A command for the worker that holds an account, built by its sender (a service here, the IM
    app for replies) and carried opaquely: `send_worker_command` puts `as_message()` (plain values:
    the Redis layer carries it) in the worker's group, and the hub process holding the worker's socket
    turns it into a protocol frame with the handler its `NAME` picks (the runtime wiring)."""

    NAME: ClassVar[str] = ""
    account_id: int

    def as_message(self) -> dict[str, Any]:
        return {"name": self.NAME, **asdict(self)}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Self:
        """The command of an `as_message()` dict; TypeError when a field is missing or unknown."""
        return cls(**{key: value for key, value in data.items() if key != "name"})


@dataclass(frozen=True)
class AssignCommand(WorkerCommand):
    """Take the account at this epoch (the hub adds its data and where its seq stands)."""

    NAME: ClassVar[str] = "assign"
    epoch: int


@dataclass(frozen=True)
class RevokeCommand(WorkerCommand):
    """Stop crawling the account: its epoch moved on."""

    NAME: ClassVar[str] = "revoke"
    epoch: int


@dataclass(frozen=True)
class LoginStartCommand(WorkerCommand):
    """Run a QR login of the account for this login session."""

    NAME: ClassVar[str] = "login_start"
    session_id: str


@dataclass(frozen=True)
class ResyncCommand(WorkerCommand):
    """Forget what was delivered and send everything again."""

    NAME: ClassVar[str] = "resync"


def _group_send_now(group: str, message: dict[str, Any], *, what: str, detail: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        send_failures[what] += 1
        logger.error("no channel layer configured: %s %s dropped", what, detail)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        send_failures[what] += 1
        logger.exception("channel layer send failed: %s %s", what, detail)


def send_worker_command(*, worker_id: str, command: WorkerCommand) -> None:
    """Send `command` to the worker's group once the current transaction commits (now, outside one).
    Call from sync code only (a thread with no running event loop)."""
    group = worker_group(worker_id)
    message = {"type": WORKER_COMMAND, "command": command.as_message()}
    detail = f"{command.NAME} worker={worker_id} account_id={command.account_id}"
    logger.info("command queued: %s", detail)
    transaction.on_commit(lambda: _group_send_now(group, message, what="worker_command", detail=detail))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def account_event_data(*, account: Any) -> dict[str, Any]:
    """What agents and admin pages may know about an account's state (no storage state, no tokens)."""
    worker_id = None
    if account.worker_id is not None and type(account).worker.is_cached(account):
        worker_id = account.worker.worker_id
    elif account.worker_id is not None:
        from accounts.models import Worker

        worker_id = Worker.objects.filter(pk=account.worker_id).values_list("worker_id", flat=True).first()
    return {
        **{name: getattr(account, name) for name in ACCOUNT_PUBLIC_FIELDS},
        "account_id": account.pk,
        "error_count": account.error_count,
        "worker_id": worker_id,
        "epoch": account.epoch,
        "last_status_at": _iso(account.last_status_at),
        "next_run_at": _iso(account.next_run_at),
        "last_sync_at": _iso(account.last_sync_at),
    }


def publish_account_event(*, account: Any) -> None:
    """Tell every hub process (and so every agent who sees it) the account's state, after commit."""
    message = {"type": ACCOUNT_EVENT, "account": account_event_data(account=account)}
    detail = f"account_id={account.pk} platform={account.platform}"
    transaction.on_commit(
        lambda: _group_send_now(ACCOUNTS_GROUP, message, what="account_event", detail=detail)
    )

"""Commands to workers and account events, delivered through the channel layer.

A worker's socket is held by whichever hub process it connected to; that process's WorkerConsumer has
joined `worker_group(worker_id)` and turns each `worker.command` message into a hub frame. Account
changes go to group `imhub.accounts`, which every hub process's runtime relays to agents.

Both are sent only after the current transaction commits, so a worker never hears of an assignment
that was rolled back. The payloads never carry secrets (storage state, tokens).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

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


def _command_message(command: dict[str, Any]) -> dict[str, Any]:
    return {"type": "worker.command", "command": command}


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


def _describe(worker_id: str, command: dict[str, Any]) -> str:
    return f"{command.get('name')} worker={worker_id} account_id={command.get('account_id')}"


def send_worker_command(*, worker_id: str, command: dict[str, Any]) -> None:
    """Send `command` to the worker's group once the current transaction commits (now, outside one).

    Call from sync code only (a thread with no running event loop); async code uses
    `asend_worker_command`.
    """
    group = worker_group(worker_id)
    message = _command_message(dict(command))
    detail = _describe(worker_id, command)
    logger.info("command queued: %s", detail)
    transaction.on_commit(lambda: _group_send_now(group, message, what="worker_command", detail=detail))


async def asend_worker_command(*, worker_id: str, command: dict[str, Any]) -> None:
    """Send `command` to the worker's group at once (async callers have no transaction to wait for)."""
    layer = get_channel_layer()
    detail = _describe(worker_id, command)
    if layer is None:
        send_failures["worker_command"] += 1
        logger.error("no channel layer configured: worker_command %s dropped", detail)
        return
    await layer.group_send(worker_group(worker_id), _command_message(dict(command)))
    logger.info("command sent: %s", detail)


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

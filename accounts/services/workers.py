"""Worker lifecycle: creation and tokens, connect (the register ack's accounts), heartbeats,
capacity changes, and the periodic expiry of silent workers (their accounts move with a new epoch).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from accounts.commands import publish_account_event
from accounts.models import (
    Account,
    AccountStatus,
    Worker,
    WorkerStatus,
)
from accounts.services.core import (
    SILENT_HEARTBEATS,
    AccountsError,
    _assign_pending,
    _assignment,
    _lock,
    _revoke,
    worker_effective_capacity,
)
from accounts.services.login import login_sessions_expire

logger = logging.getLogger(__name__)


def worker_create(*, worker_id: str, capacity: int = 10) -> tuple[Worker, str]:
    """A new worker and its token (plaintext returned once; only the hash is stored)."""
    if not worker_id or len(worker_id) > 100:
        raise AccountsError("invalid_worker_id", "worker_id must be 1 to 100 characters")
    if capacity < 0:
        raise AccountsError("invalid_capacity", "capacity must be 0 or more")
    if Worker.objects.filter(worker_id=worker_id).exists():
        raise AccountsError("worker_exists", f"a worker with worker_id {worker_id!r} already exists")
    worker = Worker(worker_id=worker_id, capacity=capacity)
    token = worker.issue_token()
    worker.save()
    logger.info("worker created: worker=%s capacity=%s", worker_id, capacity)
    return worker, token


def worker_token_regenerate(*, worker: Worker) -> str:
    """A new token for the worker (the old one stops working at once); plaintext returned once."""
    token = worker.issue_token()
    worker.save(update_fields=["token_hash", "token_prefix", "token_revoked"])
    logger.info("worker token regenerated: worker=%s", worker.worker_id)
    return token


def worker_token_revoke(*, worker: Worker) -> None:
    """Revoke the token: the worker cannot connect again; it goes offline and its accounts move."""
    with _assignment():
        worker = _lock(Worker.objects.filter(pk=worker.pk)).get()
        worker.revoke_token()
        worker.status = WorkerStatus.OFFLINE
        worker.save(update_fields=["token_revoked", "status"])
        _worker_release(worker=worker)
    logger.info("worker token revoked: worker=%s", worker.worker_id)


def worker_update(*, worker: Worker, capacity: int) -> Worker:
    """Change the capacity: accounts beyond a lowered one are moved (newest first), a raised one fills."""
    if capacity < 0:
        raise AccountsError("invalid_capacity", "capacity must be 0 or more")
    with _assignment():
        worker = _lock(Worker.objects.filter(pk=worker.pk)).get()
        worker.capacity = capacity
        worker.save(update_fields=["capacity"])
        held = list(_lock(Account.objects.filter(worker=worker).order_by("id")))
        excess = held[worker_effective_capacity(worker=worker) :]
        for account in excess:
            _revoke(account)
            account.save(update_fields=["worker", "updated_at"])
            publish_account_event(account=account)
        _assign_pending(avoid={a.pk: worker.pk for a in excess})
    logger.info(
        "worker capacity set: worker=%s capacity=%s moved=%s", worker.worker_id, capacity, len(excess)
    )
    return worker


def worker_authenticate(*, token: str) -> Worker | None:
    """The worker whose current, unrevoked token this is, else None."""
    if not token:
        return None
    worker = Worker.objects.filter(token_hash=Worker.hash_token(token), token_revoked=False).first()
    if worker is None or not worker.check_token(token):
        return None
    return worker


def worker_connection_holder(*, worker_pk: int) -> str:
    """The hub channel holding the worker's token now ("" when none)."""
    return Worker.objects.filter(pk=worker_pk).values_list("connection_id", flat=True).first() or ""


def worker_connection_claim(*, worker_pk: int, mine: str, expected: str) -> bool:
    """Make `mine` the holder if the holder is still `expected` (compare-and-set across processes)."""
    return bool(Worker.objects.filter(pk=worker_pk, connection_id=expected).update(connection_id=mine))


def worker_connection_release(*, worker_pk: int, mine: str) -> None:
    Worker.objects.filter(pk=worker_pk, connection_id=mine).update(connection_id="")


def worker_connection_refused(*, worker_pk: int, source: str) -> None:
    """Record a refused second connection (shown in admin) and log it at WARNING."""
    worker = Worker.objects.filter(pk=worker_pk).first()
    if worker is None:
        return
    Worker.objects.filter(pk=worker_pk).update(
        refused_at=timezone.now(), refused_from=source[:100], refused_count=F("refused_count") + 1
    )
    logger.warning(
        "second connection with the token of worker %s refused (from %s): one live connection per token",
        worker.worker_id,
        source,
    )


def worker_connect(
    *, worker: Worker, capabilities: list[str], max_accounts: int, host: str, version: str
) -> list[Account]:
    """Mark the worker online, give it accounts, and return every account it now holds (with epochs)."""
    now = timezone.now()
    with _assignment():
        worker = _lock(Worker.objects.filter(pk=worker.pk)).get()
        worker.status = WorkerStatus.ONLINE
        worker.platforms = list(capabilities)
        worker.max_accounts = max(0, int(max_accounts))
        worker.host = host[:200]
        worker.version = version[:50]
        worker.connected_at = now
        worker.last_heartbeat_at = now
        worker.save(
            update_fields=[
                "status",
                "platforms",
                "max_accounts",
                "host",
                "version",
                "connected_at",
                "last_heartbeat_at",
            ]
        )
        # Accounts it kept over a quick reconnect stay with their epoch, unless it can no longer run
        # them (platform dropped, capacity lowered): those go back to the pool for another worker.
        held = list(_lock(Account.objects.filter(worker=worker).order_by("id")))
        keep = [a for a in held if a.status == AccountStatus.ACTIVE and a.platform in worker.platforms]
        capacity = worker_effective_capacity(worker=worker)
        released = [a for a in held if a not in keep[:capacity]]
        for account in released:
            account.worker = None
            account.save(update_fields=["worker", "updated_at"])
            publish_account_event(account=account)
        _assign_pending(quiet_worker=worker)
        accounts = list(Account.objects.filter(worker=worker).order_by("id"))
    logger.info(
        "worker online: worker=%s host=%s version=%s platforms=%s holds=%s",
        worker.worker_id,
        host,
        version,
        ",".join(capabilities),
        len(accounts),
    )
    return accounts


def worker_heartbeat(*, worker: Worker, stats: dict[str, Any]) -> None:
    """Record the heartbeat and its stats; a worker that had been expired comes back online."""
    now = timezone.now()
    updated = Worker.objects.filter(pk=worker.pk, status=WorkerStatus.ONLINE).update(
        last_heartbeat_at=now, stats=stats
    )
    if updated:
        return
    with _assignment():
        Worker.objects.filter(pk=worker.pk).update(
            last_heartbeat_at=now, stats=stats, status=WorkerStatus.ONLINE
        )
        logger.warning("worker back online after being expired: worker=%s", worker.worker_id)
        _assign_pending()


def worker_disconnect(*, worker: Worker) -> None:
    """The socket closed. The worker keeps its accounts until `workers_expire_silent` finds it silent."""
    logger.info("worker socket closed: worker=%s (accounts kept until it is silent)", worker.worker_id)


def _worker_release(*, worker: Worker) -> list[int]:
    """Revoke every account the worker holds and hand them to other workers (inside a transaction)."""
    held = list(_lock(Account.objects.filter(worker=worker).order_by("id")))
    for account in held:
        _revoke(account)
        account.save(update_fields=["worker", "updated_at"])
        publish_account_event(account=account)
    _assign_pending()
    return [a.pk for a in held]


def workers_expire_silent(*, now: dt.datetime | None = None) -> list[str]:
    """Mark workers silent for 3 heartbeat intervals offline and reassign their accounts (new epoch).

    Cheap when nothing is silent (one indexed query) and idempotent: a worker already offline is skipped.
    Returns the worker_ids that went offline.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=SILENT_HEARTBEATS * float(settings.IMHUB_HEARTBEAT_INTERVAL))
    silent = list(
        Worker.objects.filter(status=WorkerStatus.ONLINE, last_heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    expired: list[str] = []
    for pk in silent:
        with _assignment():
            worker = _lock(Worker.objects.filter(pk=pk)).get()
            still_silent = worker.last_heartbeat_at is None or worker.last_heartbeat_at < cutoff
            if worker.status != WorkerStatus.ONLINE or not still_silent:
                continue  # another hub process got there first, or it just spoke
            worker.status = WorkerStatus.OFFLINE
            worker.save(update_fields=["status"])
            moved = _worker_release(worker=worker)
        expired.append(worker.worker_id)
        logger.warning(
            "worker offline (silent for %d heartbeats): worker=%s accounts moved=%s",
            SILENT_HEARTBEATS,
            worker.worker_id,
            moved,
        )
    # The runtime calls this pass periodically; stale QR logins end here too, so an account never
    # stays `logging_in` because nobody looked at its session.
    login_sessions_expire(now=now)
    return expired

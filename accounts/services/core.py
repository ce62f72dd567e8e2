"""The assignment core: errors, row locks, the serialised assignment transaction, and the one
function that hands waiting accounts to workers (least loaded first, epoch bumped, `assign` sent).

Assignment-changing transactions take one lock first (`_assignment`: a PostgreSQL advisory lock;
SQLite transactions are IMMEDIATE) and then lock worker and account rows, so concurrent hub processes
never hand one account out twice or over-fill a worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from accounts.commands import AssignCommand, RevokeCommand, publish_account_event, send_worker_command
from accounts.models import (
    Account,
    LoginStatus,
    Worker,
    WorkerStatus,
)

logger = logging.getLogger(__name__)

SILENT_HEARTBEATS = 3
ASSIGNMENT_LOCK_KEY = 0x1A55_16  # PostgreSQL advisory lock id for assignment changes
LOGIN_STATUSES = {choice for choice, _ in LoginStatus.choices}
PROFILE_FIELDS = ("platform_user_id", "nickname", "avatar_url")


class AccountsError(Exception):
    """A request the accounts service refuses: `code` is stable (protocol error codes where one fits)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AccountNotHeld(AccountsError):
    """The worker does not hold the account at that epoch (`unknown_account`, `not_assigned`, `stale_epoch`)."""


# ---- helpers ---------------------------------------------------------------------------------------


def _lock(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Row locks where the database has them and a transaction is open."""
    if connection.in_atomic_block and connection.features.has_select_for_update:
        return qs.select_for_update()
    return qs


@contextlib.contextmanager
def _assignment() -> Iterator[None]:
    """A transaction that changes who holds what, serialised with every other such transaction.

    Several hub processes run these at once (expiry in each, worker connects, admin actions); each
    locks worker and account rows in its own order, so without one lock taken first two of them could
    deadlock. PostgreSQL: a transaction-scoped advisory lock; SQLite: IMMEDIATE transactions already
    serialise writers.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ASSIGNMENT_LOCK_KEY])
        yield


def _ms_to_datetime(value: int | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def worker_effective_capacity(*, worker: Worker) -> int:
    """The admin's capacity, lowered to what the worker said it can run (`max_accounts`) if smaller."""
    if worker.max_accounts:
        return min(worker.capacity, worker.max_accounts)
    return worker.capacity


def _loads(worker_pks: list[int]) -> dict[int, int]:
    rows = (
        Account.objects.filter(worker_id__in=worker_pks)
        .order_by()
        .values("worker_id")
        .annotate(n=Count("id"))
        .values_list("worker_id", "n")
    )
    loads = dict.fromkeys(worker_pks, 0)
    loads.update(dict(rows))
    return loads


def _revoke(account: Account) -> None:
    """Take the account from its holder (caller saves); the holder hears `revoke` after commit."""
    if account.worker_id is None:
        return
    holder = Worker.objects.filter(pk=account.worker_id).values_list("worker_id", flat=True).first()
    if holder is not None:
        send_worker_command(
            worker_id=holder, command=RevokeCommand(account_id=account.pk, epoch=account.epoch)
        )
    logger.info(
        "account revoked: account_id=%s platform=%s worker=%s epoch=%s",
        account.pk,
        account.platform,
        holder,
        account.epoch,
    )
    account.worker = None


def _assign_pending(*, quiet_worker: Worker | None = None, avoid: dict[int, int] | None = None) -> list[int]:
    """Assign every unassigned active account to the least loaded online worker that can take it.

    Sends `assign` to each new holder except `quiet_worker` (its accounts go in the register ack).
    `avoid` maps account pk -> worker pk not to choose when another worker can take it (reassign).
    Returns the pks of the accounts assigned. Call inside a transaction.
    """
    workers = list(_lock(Worker.objects.filter(status=WorkerStatus.ONLINE).order_by("id")))
    if not workers:
        return []
    pending = list(_lock(Account.objects.active().unassigned().order_by("id")))
    if not pending:
        return []
    loads = _loads([w.pk for w in workers])
    capacity = {w.pk: worker_effective_capacity(worker=w) for w in workers}
    avoid = avoid or {}
    now = timezone.now()
    changed: list[Account] = []
    for account in pending:
        candidates = [
            w for w in workers if account.platform in (w.platforms or []) and loads[w.pk] < capacity[w.pk]
        ]
        preferred = [w for w in candidates if w.pk != avoid.get(account.pk)]
        pool = preferred or candidates
        if not pool:
            logger.info(
                "account waits for a worker: account_id=%s platform=%s (no online worker with capacity)",
                account.pk,
                account.platform,
            )
            continue
        chosen = min(pool, key=lambda w: (loads[w.pk], w.worker_id))
        loads[chosen.pk] += 1
        account.worker = chosen
        account.epoch += 1
        account.updated_at = now
        changed.append(account)
        logger.info(
            "account assigned: account_id=%s platform=%s worker=%s epoch=%s",
            account.pk,
            account.platform,
            chosen.worker_id,
            account.epoch,
        )
        if quiet_worker is None or chosen.pk != quiet_worker.pk:
            send_worker_command(
                worker_id=chosen.worker_id,
                command=AssignCommand(account_id=account.pk, epoch=account.epoch),
            )
    # One UPDATE per worker rather than per account (a failover or start-up assigns many at once);
    # the rows are locked, so epoch + 1 in the database is the epoch computed above.
    by_worker: dict[int, list[int]] = {}
    for account in changed:
        assert account.worker_id is not None
        by_worker.setdefault(account.worker_id, []).append(account.pk)
    for worker_pk, pks in by_worker.items():
        for start in range(0, len(pks), 500):
            Account.objects.filter(pk__in=pks[start : start + 500]).update(
                worker_id=worker_pk, epoch=F("epoch") + 1, updated_at=now
            )
    for account in changed:
        publish_account_event(account=account)
    return [account.pk for account in changed]


def _apply_profile(account: Account, profile: dict[str, Any] | None) -> list[str]:
    changed = []
    for name in PROFILE_FIELDS:
        value = (profile or {}).get(name)
        if value and getattr(account, name) != value:
            limit = getattr(Account._meta.get_field(name), "max_length", None) or 200
            setattr(account, name, str(value)[:limit])
            changed.append(name)
    return changed


def accounts_rebalance() -> None:
    """Assign unassigned active accounts to online workers with capacity."""
    with _assignment():
        _assign_pending()

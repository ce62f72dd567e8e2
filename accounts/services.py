"""Assignment, worker lifecycle, account status and QR login: the only functions other modules call.

Rules (docs/architecture.md, DESIGN.md section 4):
- active accounts go to online workers that have capacity and the platform, least loaded first;
- every new assignment of an account (first one, or a move) bumps its `epoch`;
- taking an account away sends `revoke` (with the epoch it held) to the old holder, giving one sends
  `assign` to the new holder, except for the accounts `worker_connect` returns (they go in the ack);
- a worker silent for 3 heartbeat intervals goes offline and its accounts are reassigned.

Assignment runs in a transaction that locks the online workers' rows first (PostgreSQL: FOR UPDATE;
SQLite: transactions are IMMEDIATE), so concurrent hub processes never hand one account out twice.

QR login: `login_start` fails the session at once, with a clear message, when no online worker holds
the account (a login needs the browser context of the holding worker). A session past its
`expires_at` without a final status is turned into `timeout` when it is read (`login_session_refresh`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from accounts.commands import publish_account_event, send_worker_command
from accounts.models import (
    LOGIN_FINAL_STATUSES,
    Account,
    AccountStatus,
    LoginSession,
    LoginSessionStatus,
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
            worker_id=holder, command={"name": "revoke", "account_id": account.pk, "epoch": account.epoch}
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
                command={"name": "assign", "account_id": account.pk, "epoch": account.epoch},
            )
    # One UPDATE per worker rather than per account (a failover or start-up assigns many at once);
    # the rows are locked, so epoch + 1 in the database is the epoch computed above.
    by_worker: dict[int, list[int]] = {}
    for account in changed:
        by_worker.setdefault(account.worker_id, []).append(account.pk)
    for worker_pk, pks in by_worker.items():
        for start in range(0, len(pks), 500):
            Account.objects.filter(pk__in=pks[start : start + 500]).update(
                worker_id=worker_pk, epoch=F("epoch") + 1, updated_at=now
            )
    for account in changed:
        publish_account_event(account=account)
    return [account.pk for account in changed]


# ---- workers ---------------------------------------------------------------------------------------


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


def login_sessions_expire(*, now: dt.datetime | None = None) -> int:
    """Turn every unfinished session past its expiry into `timeout`; returns how many."""
    now = now or timezone.now()
    stale = LoginSession.objects.filter(expires_at__lte=now).exclude(status__in=LOGIN_FINAL_STATUSES)
    count = 0
    for session in stale[:100]:
        if login_session_refresh(session=session, now=now).status == LoginSessionStatus.TIMEOUT:
            count += 1
    return count


def accounts_rebalance() -> None:
    """Assign unassigned active accounts to online workers with capacity."""
    with _assignment():
        _assign_pending()


# ---- accounts --------------------------------------------------------------------------------------


def account_create(**fields: Any) -> Account:
    """A new account (storage state is never set here: a login sets it); assigned at once if it can be."""
    fields.pop("storage_state_encrypted", None)
    with _assignment():
        account = Account.objects.create(**fields)
        account_saved(account=account)
    account.refresh_from_db()
    logger.info("account created: account_id=%s platform=%s", account.pk, account.platform)
    return account


def account_saved(*, account: Account) -> None:
    """After a form saved an account (admin): tell agents, and assign it at once if active and waiting."""
    publish_account_event(account=account)
    if account.status == AccountStatus.ACTIVE and account.worker_id is None:
        with _assignment():
            _assign_pending()


def account_update(*, account: Account, changes: dict[str, Any]) -> Account:
    """Apply editable field changes; a status change pauses (revokes) or resumes (assigns) the account."""
    changes = {k: v for k, v in changes.items() if k not in {"storage_state_encrypted", "worker", "epoch"}}
    status = changes.pop("status", None)
    with _assignment():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        for name, value in changes.items():
            setattr(account, name, value)
        account.save()
        publish_account_event(account=account)
    if status == AccountStatus.PAUSED:
        account = account_pause(account=account)
    elif status == AccountStatus.ACTIVE:
        account = account_resume(account=account)
    return account


def account_delete(*, account: Account) -> None:
    """Delete the account; its holder is told to drop it first."""
    with _assignment():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        _revoke(account)
        account_id, platform = account.pk, account.platform
        account.delete()
    logger.info("account deleted: account_id=%s platform=%s", account_id, platform)


def account_pause(*, account: Account) -> Account:
    """Stop monitoring: the holder gets `revoke`, the account stays unassigned until resumed."""
    with _assignment():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        account.status = AccountStatus.PAUSED
        _revoke(account)
        account.save(update_fields=["status", "worker", "updated_at"])
        publish_account_event(account=account)
    logger.info("account paused: account_id=%s platform=%s", account.pk, account.platform)
    return account


def account_resume(*, account: Account) -> Account:
    """Monitor again: assigned at once when an online worker has capacity for its platform."""
    with _assignment():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        account.status = AccountStatus.ACTIVE
        account.save(update_fields=["status", "updated_at"])
        publish_account_event(account=account)
        _assign_pending()
    account.refresh_from_db()
    logger.info("account resumed: account_id=%s platform=%s", account.pk, account.platform)
    return account


def account_reassign(*, account: Account) -> Account:
    """Move the account to another worker (the same one, with a new epoch, if no other can take it)."""
    with _assignment():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        if account.status != AccountStatus.ACTIVE:
            raise AccountsError("paused", "a paused account is not assigned; resume it first")
        old_worker = account.worker_id
        _revoke(account)
        account.save(update_fields=["worker", "updated_at"])
        avoid = {account.pk: old_worker} if old_worker is not None else {}
        if account.pk not in _assign_pending(avoid=avoid):
            publish_account_event(account=account)  # now waiting for a worker
    account.refresh_from_db()
    return account


def account_request_resync(*, account: Account) -> None:
    """Ask the holding worker for a full snapshot of the account."""
    if account.worker_id is None:
        raise AccountsError("not_assigned", "no worker holds this account, so none can resync it")
    holder = Worker.objects.get(pk=account.worker_id)
    send_worker_command(worker_id=holder.worker_id, command={"name": "resync", "account_id": account.pk})


def account_assignment_data(*, account: Account) -> dict[str, Any]:
    """The protocol `Assignment` minus `last_seq` (the only place the storage state leaves the hub)."""
    return {
        "account": {
            "id": account.pk,
            "platform": account.platform,
            "platform_user_id": account.platform_user_id,
            "nickname": account.nickname,
            "monitor_interval": account.monitor_interval,
            "storage_state": account.get_storage_state(),
        },
        "epoch": account.epoch,
    }


def account_holder_check(*, worker: Worker, account_id: int, epoch: int) -> Account:
    """The account, if `worker` holds it at `epoch`; else AccountNotHeld. Locks the row in a transaction."""
    account = _lock(Account.objects.filter(pk=account_id)).first()
    if account is None:
        raise AccountNotHeld("unknown_account", f"account {account_id} does not exist")
    if account.worker_id != worker.pk:
        raise AccountNotHeld(
            "not_assigned", f"account {account_id} is not assigned to worker {worker.worker_id}"
        )
    if account.epoch != epoch:
        raise AccountNotHeld(
            "stale_epoch", f"account {account_id} is at epoch {account.epoch}, the frame has epoch {epoch}"
        )
    return account


def _apply_profile(account: Account, profile: dict[str, Any] | None) -> list[str]:
    changed = []
    for name in PROFILE_FIELDS:
        value = (profile or {}).get(name)
        if value and getattr(account, name) != value:
            setattr(account, name, str(value)[: Account._meta.get_field(name).max_length])
            changed.append(name)
    return changed


def account_record_status(
    *,
    worker: Worker,
    account_id: int,
    epoch: int,
    login_status: str,
    runner_status: str,
    last_error: str,
    next_run_at: int | None,
    profile: dict[str, Any] | None,
) -> Account:
    """Store what the holding worker reports about the account (status, error, schedule, profile)."""
    with transaction.atomic():
        account = account_holder_check(worker=worker, account_id=account_id, epoch=epoch)
        if login_status in LOGIN_STATUSES:
            account.login_status = login_status
        account.runner_status = runner_status
        if last_error and last_error != account.last_error:
            account.error_count += 1
        account.last_error = last_error
        account.next_run_at = _ms_to_datetime(next_run_at)
        account.last_status_at = timezone.now()
        _apply_profile(account, profile)
        account.save()
        publish_account_event(account=account)
    return account


def accounts_visible_to(user: Any) -> QuerySet[Account]:
    """Accounts the user may see: superusers all; others those whose team is one of their groups."""
    return Account.objects.visible_to(user)


# ---- QR login --------------------------------------------------------------------------------------


def login_start(*, account: Account, user: Any = None) -> LoginSession:
    """Start a QR login through the worker holding the account (fails at once when there is none)."""
    ttl = dt.timedelta(seconds=float(settings.IMHUB_LOGIN_SESSION_TTL))
    created_by = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        session = LoginSession(account=account, expires_at=timezone.now() + ttl, created_by=created_by)
        holder = Worker.objects.filter(pk=account.worker_id, status=WorkerStatus.ONLINE).first()
        if account.status != AccountStatus.ACTIVE:
            session.status = LoginSessionStatus.FAILED
            session.message = "the account is paused; resume it before logging in"
        elif holder is None:
            session.status = LoginSessionStatus.FAILED
            session.message = "no online worker holds this account; start a worker with capacity and retry"
        session.save()
        if session.status == LoginSessionStatus.PENDING and holder is not None:
            account.login_status = LoginStatus.LOGGING_IN
            account.save(update_fields=["login_status", "updated_at"])
            publish_account_event(account=account)
            send_worker_command(
                worker_id=holder.worker_id,
                command={"name": "login_start", "session_id": str(session.id), "account_id": account.pk},
            )
    logger.info(
        "login started: account_id=%s platform=%s session=%s status=%s",
        account.pk,
        account.platform,
        session.id,
        session.status,
    )
    return session


def _login_end(account: Account) -> None:
    """A login that did not succeed: the account is no longer `logging_in`."""
    if account.login_status == LoginStatus.LOGGING_IN:
        account.login_status = LoginStatus.NOT_LOGGED_IN
        account.save(update_fields=["login_status", "updated_at"])
        publish_account_event(account=account)


def login_session_update(
    *,
    worker: Worker,
    session_id: str,
    account_id: int,
    status: str,
    qr_image: str | None,
    message: str,
    expires_at: int | None,
    storage_state: dict[str, Any] | None,
    profile: dict[str, Any] | None,
) -> LoginSession:
    """Apply a `worker:login:status` update; on success store the storage state (encrypted)."""
    if status not in {s for s, _ in LoginSessionStatus.choices} or status == LoginSessionStatus.PENDING:
        raise AccountsError("invalid_frame", f"login status {status!r} is not one a worker reports")
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        raise AccountsError("unknown_session", f"login session {session_id!r} does not exist") from None
    with transaction.atomic():
        session = _lock(LoginSession.objects.filter(pk=session_uuid, account_id=account_id)).first()
        if session is None:
            raise AccountsError(
                "unknown_session", f"login session {session_id} of account {account_id} does not exist"
            )
        account = _lock(Account.objects.filter(pk=account_id)).get()
        if account.worker_id != worker.pk:
            raise AccountNotHeld(
                "not_assigned", f"account {account_id} is not assigned to worker {worker.worker_id}"
            )
        if session.is_final:
            return session  # a late update never reopens a finished login
        session.status = status
        if qr_image:
            session.qr_image = qr_image
        session.message = message
        if expires_at is not None:
            session.expires_at = _ms_to_datetime(expires_at)
        session.save()
        if status == LoginSessionStatus.SUCCESS:
            if storage_state:
                account.set_storage_state(storage_state)
            account.login_status = LoginStatus.LOGGED_IN
            account.last_error = ""
            _apply_profile(account, profile)
            account.save()
            publish_account_event(account=account)
        elif session.is_final:
            _login_end(account)
    logger.info(
        "login status: account_id=%s platform=%s session=%s status=%s",
        account.pk,
        account.platform,
        session.id,
        status,
    )
    return session


def login_session_refresh(*, session: LoginSession, now: dt.datetime | None = None) -> LoginSession:
    """The session as it stands: one past `expires_at` without a final status becomes `timeout`."""
    now = now or timezone.now()
    if session.is_final or session.expires_at > now:
        return session
    with transaction.atomic():
        session = _lock(LoginSession.objects.filter(pk=session.pk)).get()
        if session.is_final or session.expires_at > now:
            return session
        session.status = LoginSessionStatus.TIMEOUT
        session.message = session.message or "the QR code was not confirmed in time"
        session.save(update_fields=["status", "message", "updated_at"])
        _login_end(_lock(Account.objects.filter(pk=session.account_id)).get())
    logger.info("login timed out: account_id=%s session=%s", session.account_id, session.id)
    return session

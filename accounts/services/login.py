"""QR login sessions: start (through the worker holding the account), the worker's status updates
(storage state stored encrypted on success), and expiry (a session past `expires_at` becomes `timeout`).

`login_start` fails the session at once, with a clear message, when no online worker holds the
account or the account is paused (a login needs the holding worker's browser context).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.commands import LoginStartCommand, publish_account_event, send_worker_command
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
from accounts.services.core import AccountNotHeld, AccountsError, _apply_profile, _lock, _ms_to_datetime

logger = logging.getLogger(__name__)


def login_start(*, account: Account, user: Any = None) -> LoginSession:
    """Start a QR login through the worker holding the account (fails at once when there is none)."""
    ttl = dt.timedelta(seconds=float(settings.IMHUB_LOGIN_SESSION_TTL))
    created_by = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        account = _lock(Account.objects.filter(pk=account.pk)).get()
        session = LoginSession(account=account, expires_at=timezone.now() + ttl, created_by=created_by)
        holder = (
            Worker.objects.filter(pk=account.worker_id, status=WorkerStatus.ONLINE).first()
            if account.worker_id is not None
            else None
        )
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
                command=LoginStartCommand(account_id=account.pk, session_id=str(session.id)),
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


def login_sessions_expire(*, now: dt.datetime | None = None) -> int:
    """Turn every unfinished session past its expiry into `timeout`; returns how many."""
    now = now or timezone.now()
    stale = LoginSession.objects.filter(expires_at__lte=now).exclude(status__in=LOGIN_FINAL_STATUSES)
    count = 0
    for session in stale[:100]:
        if login_session_refresh(session=session, now=now).status == LoginSessionStatus.TIMEOUT:
            count += 1
    return count

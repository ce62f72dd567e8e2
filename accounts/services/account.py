"""Account operations: create/update/delete, pause/resume/reassign/resync, what a worker is told
(`account_assignment_data`), who holds what (`account_holder_check`), worker status reports, team scoping.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.commands import ResyncCommand, publish_account_event, send_worker_command
from accounts.models import (
    Account,
    AccountStatus,
    Worker,
)
from accounts.services.core import (
    LOGIN_STATUSES,
    AccountNotHeld,
    AccountsError,
    _apply_profile,
    _assign_pending,
    _assignment,
    _lock,
    _ms_to_datetime,
    _revoke,
)

logger = logging.getLogger(__name__)


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
    send_worker_command(worker_id=holder.worker_id, command=ResyncCommand(account_id=account.pk))


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
    account_holder_verify(
        worker=worker,
        account_id=account_id,
        epoch=epoch,
        held=None if account is None else (account.worker_id, account.epoch),
    )
    return account  # type: ignore[return-value]  # account_holder_verify raised when it is None


def account_holder_verify(
    *, worker: Worker, account_id: int, epoch: int, held: tuple[Any, Any] | None
) -> None:
    """AccountNotHeld unless `held` (the account's worker pk and epoch, read under its row lock; None:
    no such account) says `worker` holds it at `epoch`. The sync hot path reads `held` in the same
    statement as the account's sync state (`datasync.persistence.sync_frame_lock`)."""
    if held is None:
        raise AccountNotHeld("unknown_account", f"account {account_id} does not exist")
    worker_pk, account_epoch = held
    if worker_pk != worker.pk:
        raise AccountNotHeld(
            "not_assigned", f"account {account_id} is not assigned to worker {worker.worker_id}"
        )
    if account_epoch != epoch:
        raise AccountNotHeld(
            "stale_epoch", f"account {account_id} is at epoch {account_epoch}, the frame has epoch {epoch}"
        )


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
    listener_status: str = "",
) -> Account:
    """Store what the holding worker reports about the account (status, error, schedule, profile,
    push listener state)."""
    with transaction.atomic():
        account = account_holder_check(worker=worker, account_id=account_id, epoch=epoch)
        if login_status in LOGIN_STATUSES:
            account.login_status = login_status
        account.runner_status = runner_status
        account.listener_status = listener_status
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


def accounts_writable_ids(user: Any) -> frozenset[int] | None:
    """Ids of the accounts ``user`` may act on (reply, change threads); None for a superuser (all).

    Visible accounts minus those of teams where the user's role is read-only.
    """
    if user.is_superuser:
        return None
    from accounts.models import TeamMembershipRole, TeamRole

    read_only = TeamMembershipRole.objects.filter(user=user, role=TeamRole.READ_ONLY).values("team_id")
    return frozenset(
        Account.objects.visible_to(user).exclude(team__in=read_only).values_list("id", flat=True)
    )


def account_writable(user: Any, account: Account) -> bool:
    """Whether ``user`` may act on ``account`` (it must be visible to them already)."""
    ids = accounts_writable_ids(user)
    return ids is None or account.pk in ids

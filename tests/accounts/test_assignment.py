"""Assignment: capacity, platform match, least loaded first, failover with epoch bump, pause/resume."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from accounts import services
from accounts.commands import worker_group
from accounts.models import Account, AccountStatus, Worker, WorkerStatus
from tests.accounts.conftest import worker_online

pytestmark = pytest.mark.django_db


def _account(nickname: str, **fields) -> Account:
    return Account.objects.create(nickname=nickname, platform="douyin", **fields)


def test_connect_takes_accounts_up_to_capacity_and_returns_them_for_the_ack(
    inbox, django_capture_on_commit_callbacks
):
    # given three active accounts and no worker
    a1, a2, a3 = _account("a1"), _account("a2"), _account("a3")
    w1_inbox = inbox(worker_group("w1"))
    # when a worker with capacity 2 connects
    with django_capture_on_commit_callbacks(execute=True):
        worker, held = worker_online(worker_id="w1", capacity=2)
    # then it holds the first two at epoch 1, the third waits, and no assign command was sent
    assert [(a.pk, a.epoch) for a in held] == [(a1.pk, 1), (a2.pk, 1)]
    assert Account.objects.get(pk=a3.pk).worker_id is None
    assert worker.status == WorkerStatus.ONLINE
    assert w1_inbox.commands() == []


def test_reported_max_accounts_lowers_capacity():
    # given three accounts
    for name in ("a1", "a2", "a3"):
        _account(name)
    # when a worker with capacity 10 says it can run only one
    _worker, held = worker_online(worker_id="w1", capacity=10, max_accounts=1)
    # then it gets one
    assert len(held) == 1


def test_second_worker_takes_what_the_first_could_not(inbox, django_capture_on_commit_callbacks):
    # given w1 full with two accounts and a third waiting
    _account("a1"), _account("a2")
    a3 = _account("a3")
    worker_online(worker_id="w1", capacity=2)
    # when w2 connects
    with django_capture_on_commit_callbacks(execute=True):
        w2, held = worker_online(worker_id="w2", capacity=2)
    # then w2's ack carries the third account at epoch 1
    assert [(a.pk, a.worker_id, a.epoch) for a in held] == [(a3.pk, w2.pk, 1)]


def test_new_account_goes_to_least_loaded_worker_with_an_assign_command(
    inbox, django_capture_on_commit_callbacks
):
    # given w1 holding two accounts and an empty w2
    _account("a1"), _account("a2")
    _w1, _ = worker_online(worker_id="w1", capacity=5)
    w2, _ = worker_online(worker_id="w2", capacity=5)
    w1_inbox, w2_inbox = inbox(worker_group("w1")), inbox(worker_group("w2"))
    # when an account is created
    with django_capture_on_commit_callbacks(execute=True):
        account = services.account_create(nickname="new", platform="douyin")
    # then w2 gets it at epoch 1 and is told so
    assert (account.worker_id, account.epoch) == (w2.pk, 1)
    assert w2_inbox.commands() == [{"name": "assign", "account_id": account.pk, "epoch": 1}]
    assert w1_inbox.commands() == []


def test_worker_without_the_platform_gets_nothing():
    # given a douyin account
    account = _account("a1")
    # when a worker that runs only another platform connects
    _worker, held = worker_online(worker_id="w1", platforms=("kuaishou",))
    # then it holds nothing and the account waits
    assert held == []
    assert Account.objects.get(pk=account.pk).worker_id is None


def test_paused_account_is_not_assigned():
    # given a paused account
    _account("a1", status=AccountStatus.PAUSED)
    # when a worker connects
    _worker, held = worker_online(worker_id="w1")
    # then it gets nothing
    assert held == []


def test_quick_reconnect_keeps_accounts_and_epoch(django_capture_on_commit_callbacks):
    # given w1 holding an account at epoch 1
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    services.worker_disconnect(worker=w1)
    # when it connects again before being expired
    held = services.worker_connect(worker=w1, capabilities=["douyin"], max_accounts=50, host="h", version="1")
    # then it holds the same account at the same epoch
    assert [(a.pk, a.epoch) for a in held] == [(account.pk, 1)]


def test_silent_worker_goes_offline_and_its_accounts_move_with_a_new_epoch(
    inbox, django_capture_on_commit_callbacks
):
    # given w1 holding an account at epoch 1 and an empty w2 that keeps beating
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    w2, _ = worker_online(worker_id="w2")
    w1_inbox, w2_inbox = inbox(worker_group("w1")), inbox(worker_group("w2"))
    interval = float(settings.IMHUB_HEARTBEAT_INTERVAL)
    later = timezone.now() + dt.timedelta(seconds=3 * interval + 1)
    Worker.objects.filter(pk=w2.pk).update(last_heartbeat_at=later)
    # when the expiry runs after 3 heartbeat intervals of silence from w1
    with django_capture_on_commit_callbacks(execute=True):
        expired = services.workers_expire_silent(now=later)
    # then w1 is offline, the account is w2's at epoch 2, w1 is told to drop epoch 1, w2 to take epoch 2
    account.refresh_from_db()
    assert expired == ["w1"]
    assert Worker.objects.get(pk=w1.pk).status == WorkerStatus.OFFLINE
    assert (account.worker_id, account.epoch) == (w2.pk, 2)
    assert w1_inbox.commands() == [{"name": "revoke", "account_id": account.pk, "epoch": 1}]
    assert w2_inbox.commands() == [{"name": "assign", "account_id": account.pk, "epoch": 2}]


def test_expiry_is_idempotent_and_spares_workers_that_beat():
    # given w1 that beat just now
    _account("a1")
    w1, _ = worker_online(worker_id="w1")
    services.worker_heartbeat(worker=w1, stats={"active_accounts": 1})
    interval = float(settings.IMHUB_HEARTBEAT_INTERVAL)
    # when the expiry runs within 3 intervals, then twice after
    within = services.workers_expire_silent(now=timezone.now() + dt.timedelta(seconds=2 * interval))
    after = timezone.now() + dt.timedelta(seconds=3 * interval + 1)
    first, second = services.workers_expire_silent(now=after), services.workers_expire_silent(now=after)
    # then only the first late run expires it
    assert (within, first, second) == ([], ["w1"], [])
    assert Worker.objects.get(pk=w1.pk).stats == {"active_accounts": 1}


def test_failover_without_another_worker_leaves_the_account_waiting_until_one_comes():
    # given w1 holding an account, then silent
    account = _account("a1")
    worker_online(worker_id="w1")
    later = timezone.now() + dt.timedelta(seconds=3 * float(settings.IMHUB_HEARTBEAT_INTERVAL) + 1)
    services.workers_expire_silent(now=later)
    account.refresh_from_db()
    waiting = (account.worker_id, account.epoch)
    # when w2 connects
    w2, held = worker_online(worker_id="w2")
    # then the account waited unassigned and now is w2's at epoch 2
    assert waiting == (None, 1)
    assert [(a.pk, a.worker_id, a.epoch) for a in held] == [(account.pk, w2.pk, 2)]


def test_heartbeat_from_an_expired_worker_brings_it_back_and_assigns_waiting_accounts(
    inbox, django_capture_on_commit_callbacks
):
    # given w1 expired while holding an account (now waiting)
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    later = timezone.now() + dt.timedelta(seconds=3 * float(settings.IMHUB_HEARTBEAT_INTERVAL) + 1)
    services.workers_expire_silent(now=later)
    w1_inbox = inbox(worker_group("w1"))
    # when it beats again
    with django_capture_on_commit_callbacks(execute=True):
        services.worker_heartbeat(worker=w1, stats={})
    # then it is online and gets the account back with a new epoch
    account.refresh_from_db()
    assert Worker.objects.get(pk=w1.pk).status == WorkerStatus.ONLINE
    assert (account.worker_id, account.epoch) == (w1.pk, 2)
    assert w1_inbox.commands() == [{"name": "assign", "account_id": account.pk, "epoch": 2}]


def test_pause_revokes_and_resume_assigns_with_a_new_epoch(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account at epoch 1
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    w1_inbox = inbox(worker_group("w1"))
    # when it is paused
    with django_capture_on_commit_callbacks(execute=True):
        paused = services.account_pause(account=account)
    paused_commands = w1_inbox.commands()
    # and resumed
    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.account_resume(account=account)
    # then pausing revoked epoch 1 and resuming assigned epoch 2
    assert (paused.status, paused.worker_id) == (AccountStatus.PAUSED, None)
    assert paused_commands == [{"name": "revoke", "account_id": account.pk, "epoch": 1}]
    assert (resumed.status, resumed.worker_id, resumed.epoch) == (AccountStatus.ACTIVE, w1.pk, 2)
    assert w1_inbox.commands() == [{"name": "assign", "account_id": account.pk, "epoch": 2}]


def test_reassign_moves_to_another_worker(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account and an empty w2
    account = _account("a1")
    worker_online(worker_id="w1")
    w2, _ = worker_online(worker_id="w2")
    w1_inbox, w2_inbox = inbox(worker_group("w1")), inbox(worker_group("w2"))
    # when an admin reassigns it
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.account_reassign(account=account)
    # then it is w2's at epoch 2
    assert (moved.worker_id, moved.epoch) == (w2.pk, 2)
    assert w1_inbox.commands() == [{"name": "revoke", "account_id": account.pk, "epoch": 1}]
    assert w2_inbox.commands() == [{"name": "assign", "account_id": account.pk, "epoch": 2}]


def test_reassign_with_one_worker_reassigns_it_to_the_same_worker_with_a_new_epoch():
    # given only w1, holding an account
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    # when reassigned
    moved = services.account_reassign(account=account)
    # then w1 holds it at epoch 2
    assert (moved.worker_id, moved.epoch) == (w1.pk, 2)


def test_resync_goes_to_the_holder_and_fails_without_one(inbox, django_capture_on_commit_callbacks):
    # given an assigned account and an unassigned one
    held = _account("a1")
    worker_online(worker_id="w1", capacity=1)
    waiting = _account("a2")
    w1_inbox = inbox(worker_group("w1"))
    # when a resync is requested for each
    with django_capture_on_commit_callbacks(execute=True):
        services.account_request_resync(account=Account.objects.get(pk=held.pk))
    with pytest.raises(services.AccountsError) as refused:
        services.account_request_resync(account=waiting)
    # then the holder is asked, and the unassigned one is refused with a code
    assert w1_inbox.commands() == [{"name": "resync", "account_id": held.pk}]
    assert refused.value.code == "not_assigned"


def test_holder_check_codes():
    # given w1 holding an account at epoch 1 and an idle w2
    account = _account("a1")
    w1, _ = worker_online(worker_id="w1")
    w2, _ = worker_online(worker_id="w2")
    # when each kind of wrong holder asks
    codes = []
    for worker, account_id, epoch in ((w1, 999999, 1), (w2, account.pk, 1), (w1, account.pk, 0)):
        with pytest.raises(services.AccountNotHeld) as refused:
            services.account_holder_check(worker=worker, account_id=account_id, epoch=epoch)
        codes.append(refused.value.code)
    # then each gets its code, and the right holder gets the account
    assert codes == ["unknown_account", "not_assigned", "stale_epoch"]
    assert services.account_holder_check(worker=w1, account_id=account.pk, epoch=1).pk == account.pk


def test_delete_revokes_first(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account
    account = _account("a1")
    worker_online(worker_id="w1")
    w1_inbox = inbox(worker_group("w1"))
    # when it is deleted
    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete(account=account)
    # then the worker is told and the row is gone
    assert w1_inbox.commands() == [{"name": "revoke", "account_id": account.pk, "epoch": 1}]
    assert not Account.objects.filter(pk=account.pk).exists()


def test_lowering_capacity_moves_the_newest_accounts_away(inbox, django_capture_on_commit_callbacks):
    # given w1 holding three accounts and an empty w2
    a1, a2, a3 = _account("a1"), _account("a2"), _account("a3")
    w1, _ = worker_online(worker_id="w1", capacity=3)
    w2, _ = worker_online(worker_id="w2", capacity=3)
    w1_inbox = inbox(worker_group("w1"))
    # when w1's capacity is lowered to one
    with django_capture_on_commit_callbacks(execute=True):
        services.worker_update(worker=w1, capacity=1)
    # then a2 and a3 move to w2 with epoch 2 and w1 is told to drop them
    held = {a.pk: (a.worker_id, a.epoch) for a in Account.objects.all()}
    assert held == {a1.pk: (w1.pk, 1), a2.pk: (w2.pk, 2), a3.pk: (w2.pk, 2)}
    assert w1_inbox.commands() == [
        {"name": "revoke", "account_id": a2.pk, "epoch": 1},
        {"name": "revoke", "account_id": a3.pk, "epoch": 1},
    ]

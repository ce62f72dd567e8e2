"""Worker status reports, QR login sessions, worker tokens, command groups and account events."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.utils import timezone

from accounts import commands, services
from accounts.commands import ACCOUNTS_GROUP, worker_group
from accounts.models import Account, LoginSession, LoginSessionStatus, LoginStatus, Worker, WorkerStatus
from tests.accounts.conftest import worker_online

pytestmark = pytest.mark.django_db

COOKIE = "cookie-secret-4711"
STATE = {"cookies": [{"name": "sessionid", "value": COOKIE}], "origins": []}


def _held_account() -> tuple[Worker, Account]:
    account = Account.objects.create(nickname="a1", platform="douyin")
    worker, _ = worker_online(worker_id="w1")
    account.refresh_from_db()
    return worker, account


def _login_update(worker: Worker, session: LoginSession, status: str, **fields) -> LoginSession:
    values: dict[str, Any] = {
        "qr_image": None,
        "message": "",
        "expires_at": None,
        "storage_state": None,
        "profile": None,
    }
    values.update(fields)
    return services.login_session_update(
        worker=worker, session_id=str(session.id), account_id=session.account_id, status=status, **values
    )


def test_status_report_updates_the_account_and_publishes_an_event(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account
    worker, account = _held_account()
    events = inbox(ACCOUNTS_GROUP)
    # when it reports an error with a profile
    with django_capture_on_commit_callbacks(execute=True):
        services.account_record_status(
            worker=worker,
            account_id=account.pk,
            epoch=1,
            login_status="logged_in",
            runner_status="backoff",
            last_error="timeout loading comments",
            next_run_at=1_700_000_000_000,
            profile={"platform_user_id": "dy42", "nickname": "Creator", "avatar_url": "https://x/a.png"},
        )
    # then the account shows it and one event carries it
    account.refresh_from_db()
    assert (account.login_status, account.runner_status, account.last_error, account.error_count) == (
        "logged_in",
        "backoff",
        "timeout loading comments",
        1,
    )
    assert (account.platform_user_id, account.nickname, account.avatar_url) == (
        "dy42",
        "Creator",
        "https://x/a.png",
    )
    assert account.next_run_at == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    [event] = events.take()
    assert event["type"] == "account.event"
    assert event["account"]["id"] == account.pk
    assert event["account"]["last_error"] == "timeout loading comments"
    assert event["account"]["worker_id"] == "w1"


def test_unknown_login_status_keeps_the_stored_one():
    # given an account logged in
    worker, account = _held_account()
    Account.objects.filter(pk=account.pk).update(login_status=LoginStatus.LOGGED_IN)
    # when the worker reports "unknown"
    services.account_record_status(
        worker=worker,
        account_id=account.pk,
        epoch=1,
        login_status="unknown",
        runner_status="running",
        last_error="",
        next_run_at=None,
        profile=None,
    )
    # then it stays logged in
    assert Account.objects.get(pk=account.pk).login_status == LoginStatus.LOGGED_IN


def test_login_start_without_a_holder_fails_at_once_with_a_message():
    # given an account no worker holds
    account = Account.objects.create(nickname="a1", platform="douyin")
    # when a login is started
    session = services.login_start(account=account)
    # then the session is failed and says why; the account is not logging in
    assert session.status == LoginSessionStatus.FAILED
    assert session.message == "no online worker holds this account; start a worker with capacity and retry"
    assert Account.objects.get(pk=account.pk).login_status == LoginStatus.NOT_LOGGED_IN


def test_login_flow_to_success_stores_storage_state_encrypted(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account
    worker, account = _held_account()
    w1_inbox = inbox(worker_group("w1"))
    # when a login starts, the QR is shown, scanned and confirmed
    with django_capture_on_commit_callbacks(execute=True):
        session = services.login_start(account=account)
    logging_in = Account.objects.get(pk=account.pk).login_status
    ready = _login_update(worker, session, "qrcode_ready", qr_image="data:image/png;base64,QR1")
    scanned = _login_update(worker, session, "scanned")
    done = _login_update(
        worker, session, "success", storage_state=STATE, profile={"platform_user_id": "dy42", "nickname": "C"}
    )
    # then the worker was asked, each step is recorded, and the state is stored encrypted
    account.refresh_from_db()
    assert w1_inbox.commands() == [
        {"name": "login_start", "session_id": str(session.id), "account_id": account.pk}
    ]
    assert logging_in == LoginStatus.LOGGING_IN
    assert (ready.status, ready.qr_image) == ("qrcode_ready", "data:image/png;base64,QR1")
    assert (scanned.status, scanned.qr_image) == ("scanned", "data:image/png;base64,QR1")
    assert done.status == "success"
    assert (account.login_status, account.platform_user_id, account.nickname) == ("logged_in", "dy42", "C")
    assert account.get_storage_state() == STATE
    assert "cookie-secret-4711" not in account.storage_state_encrypted


def test_login_failure_resets_the_account_and_late_updates_are_ignored():
    # given a login in progress
    worker, account = _held_account()
    session = services.login_start(account=account)
    # when the worker reports failure, then a late QR refresh
    failed = _login_update(worker, session, "failed", message="QR expired twice")
    late = _login_update(worker, session, "qrcode_refreshed", qr_image="data:image/png;base64,QR2")
    # then the session stays failed and the account is not logging in any more
    assert (failed.status, failed.message) == ("failed", "QR expired twice")
    assert (late.status, late.qr_image) == ("failed", "")
    assert Account.objects.get(pk=account.pk).login_status == LoginStatus.NOT_LOGGED_IN


def test_login_update_errors():
    # given a login on w1's account and a second worker
    worker, account = _held_account()
    session = services.login_start(account=account)
    other, _ = worker_online(worker_id="w2")
    # when a bad session id, a stranger worker and an invalid status report
    codes = []
    cases: tuple[dict[str, Any], ...] = (
        {"worker": worker, "session_id": "not-a-uuid", "status": "scanned"},
        {"worker": worker, "session_id": "00000000-0000-0000-0000-000000000000", "status": "scanned"},
        {"worker": other, "session_id": str(session.id), "status": "scanned"},
        {"worker": worker, "session_id": str(session.id), "status": "pending"},
    )
    for kwargs in cases:
        with pytest.raises(services.AccountsError) as refused:
            services.login_session_update(
                account_id=account.pk,
                qr_image=None,
                message="",
                expires_at=None,
                storage_state=None,
                profile=None,
                **kwargs,
            )
        codes.append(refused.value.code)
    # then each is refused with its code and the session is unchanged
    assert codes == ["unknown_session", "unknown_session", "not_assigned", "invalid_frame"]
    assert LoginSession.objects.get(pk=session.pk).status == LoginSessionStatus.PENDING


def test_session_past_expiry_reads_as_timeout():
    # given a login in progress
    _worker, account = _held_account()
    session = services.login_start(account=account)
    # when it is read before and after its expiry
    before = services.login_session_refresh(session=session).status
    after = services.login_session_refresh(session=session, now=session.expires_at + dt.timedelta(seconds=1))
    # then it becomes timeout and the account stops logging in
    assert (before, after.status) == ("pending", "timeout")
    assert LoginSession.objects.get(pk=session.pk).status == LoginSessionStatus.TIMEOUT
    assert Account.objects.get(pk=account.pk).login_status == LoginStatus.NOT_LOGGED_IN


def test_expires_at_from_the_worker_is_stored():
    # given a login in progress
    worker, account = _held_account()
    session = services.login_start(account=account)
    # when the worker reports the QR's own expiry
    updated = _login_update(worker, session, "qrcode_ready", qr_image="data:,x", expires_at=1_900_000_000_000)
    # then it is the session's expiry
    assert updated.expires_at == dt.datetime(2030, 3, 17, 17, 46, 40, tzinfo=dt.UTC)


def test_assignment_data_carries_the_decrypted_state():
    # given an account with storage state
    account = Account.objects.create(nickname="a1", platform="douyin", epoch=3, monitor_interval=30.0)
    account.set_storage_state(STATE)
    account.save()
    # when the assignment is built
    data = services.account_assignment_data(account=account)
    # then it is the protocol shape
    assert data == {
        "account": {
            "id": account.pk,
            "platform": "douyin",
            "platform_user_id": "",
            "nickname": "a1",
            "monitor_interval": 30.0,
            "storage_state": STATE,
        },
        "epoch": 3,
    }


def test_token_is_stored_hashed_and_authenticates():
    # given a worker created with a token
    worker, token = services.worker_create(worker_id="w1", capacity=3)
    # when it authenticates with it, a wrong one, and nothing
    results = [services.worker_authenticate(token=t) for t in (token, token + "x", "")]
    # then only the right token works and the plaintext is stored nowhere
    assert [w.pk if w else None for w in results] == [worker.pk, None, None]
    row = Worker.objects.filter(pk=worker.pk).values().get()
    assert all(token not in str(value) for value in row.values())
    assert row["token_hash"] == Worker.hash_token(token)


def test_regenerate_invalidates_the_old_token():
    # given a worker and its token
    worker, old = services.worker_create(worker_id="w1")
    # when the token is regenerated
    new = services.worker_token_regenerate(worker=worker)
    # then only the new one works
    assert services.worker_authenticate(token=old) is None
    assert services.worker_authenticate(token=new) == worker


def test_revoke_blocks_the_token_and_moves_the_workers_accounts(inbox, django_capture_on_commit_callbacks):
    # given w1 holding an account and an empty w2
    worker, account = _held_account()
    w2, _ = worker_online(worker_id="w2")
    token = services.worker_token_regenerate(worker=worker)
    w1_inbox = inbox(worker_group("w1"))
    # when w1's token is revoked
    with django_capture_on_commit_callbacks(execute=True):
        services.worker_token_revoke(worker=worker)
    # then it cannot authenticate, is offline, and its account moved to w2 with a new epoch
    account.refresh_from_db()
    assert services.worker_authenticate(token=token) is None
    assert Worker.objects.get(pk=worker.pk).status == WorkerStatus.OFFLINE
    assert (account.worker_id, account.epoch) == (w2.pk, 2)
    assert w1_inbox.commands() == [{"name": "revoke", "account_id": account.pk, "epoch": 1}]


def test_duplicate_worker_id_is_refused():
    # given a worker w1
    services.worker_create(worker_id="w1")
    # when another w1 is created
    with pytest.raises(services.AccountsError) as refused:
        services.worker_create(worker_id="w1")
    # then it is refused by code
    assert refused.value.code == "worker_exists"


def test_worker_group_names_are_layer_safe_and_distinct():
    # given ids that are plain, need sanitising, or are long
    ids = ["w1", "host a/1", "host_a_1", "x" * 100]
    # when their groups are named
    groups = [worker_group(i) for i in ids]
    # then the plain one is readable, all are distinct, valid and short
    assert groups[0] == "worker.w1"
    assert len(set(groups)) == 4
    assert all(
        len(g) < 100 and g.replace(".", "").replace("_", "").replace("-", "").isalnum() for g in groups
    )


def test_account_event_has_no_secret(inbox, django_capture_on_commit_callbacks):
    # given an account with storage state
    _worker, account = _held_account()
    account.set_storage_state(STATE)
    account.save()
    events = inbox(ACCOUNTS_GROUP)
    # when it is paused (an event goes out)
    with django_capture_on_commit_callbacks(execute=True):
        services.account_pause(account=account)
    # then the event has no storage state
    [event] = events.take()
    assert "cookie-secret-4711" not in repr(event)
    assert "storage_state" not in repr(event)
    assert event["account"]["status"] == "paused"


def test_heartbeat_records_stats_and_time():
    # given an online worker
    worker, _ = worker_online(worker_id="w1")
    before = timezone.now()
    # when it beats
    services.worker_heartbeat(worker=worker, stats={"active_accounts": 2, "rss_bytes": 1000})
    # then its stats and heartbeat time are recorded
    worker.refresh_from_db()
    assert worker.stats == {"active_accounts": 2, "rss_bytes": 1000}
    assert worker.last_heartbeat_at is not None
    assert worker.last_heartbeat_at >= before


def test_periodic_expiry_pass_times_out_stale_login_sessions():
    # given a login nobody is watching
    _worker, account = _held_account()
    session = services.login_start(account=account)
    # when the periodic pass runs after the session's expiry
    services.workers_expire_silent(now=session.expires_at + dt.timedelta(seconds=1))
    # then the session is timed out and the account is not stuck logging in
    assert LoginSession.objects.get(pk=session.pk).status == LoginSessionStatus.TIMEOUT
    assert Account.objects.get(pk=account.pk).login_status == LoginStatus.NOT_LOGGED_IN


def test_login_success_logs_no_secret(caplog):
    # given a login in progress, with logs captured at DEBUG
    caplog.set_level(logging.DEBUG)
    worker, account = _held_account()
    session = services.login_start(account=account)
    # when it succeeds with a storage state and the assignment is rebuilt
    _login_update(worker, session, "success", storage_state=STATE)
    services.account_reassign(account=account)
    # then log lines name the account but never the cookie or the ciphertext
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"account_id={account.pk}" in text
    assert COOKIE not in text
    assert Account.objects.get(pk=account.pk).storage_state_encrypted not in text


def test_a_failing_channel_layer_is_logged_and_counted(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    # given a channel layer that refuses every send
    class BrokenLayer:
        async def group_send(self, group, message):
            raise RuntimeError("layer down")

    monkeypatch.setattr(commands, "get_channel_layer", lambda: BrokenLayer())
    before = commands.send_failures["worker_command"]
    # when a command is sent after commit
    with django_capture_on_commit_callbacks(execute=True):
        commands.send_worker_command(worker_id="w1", command=commands.ResyncCommand(account_id=7))
    # then the failure is counted and logged with the worker and account
    assert commands.send_failures["worker_command"] == before + 1
    assert "channel layer send failed: worker_command resync worker=w1 account_id=7" in caplog.text

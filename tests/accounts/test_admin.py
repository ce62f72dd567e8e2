"""Admin pages render for staff, actions go through the services, and no secret is ever displayed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts import services
from accounts.models import Account, AccountStatus, LoginSession, Worker
from tests.accounts.conftest import worker_online

pytestmark = pytest.mark.django_db

COOKIE = "cookie-secret-4711"
STATE = {"cookies": [{"name": "sessionid", "value": COOKIE}], "origins": []}


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


def _held_account_with_secrets() -> tuple[Account, Worker, str]:
    account = Account.objects.create(nickname="Creator A", platform="douyin", last_error="captcha page shown")
    account.set_storage_state(STATE)
    account.save()
    worker, _ = worker_online(worker_id="w1", capacity=4)
    services.worker_heartbeat(
        worker=worker,
        stats={"active_accounts": 1, "rss_bytes": 300 * 1024 * 1024, "pss_bytes": 120 * 1024 * 1024},
    )
    token = services.worker_token_regenerate(worker=worker)
    account.refresh_from_db()
    return account, worker, token


def test_pages_render_with_badges_and_without_secrets(admin_client_):
    # given a held account with storage state and a worker with a token
    account, worker, token = _held_account_with_secrets()
    session = services.login_start(account=account)
    pages = [
        "/admin/accounts/account/",
        "/admin/accounts/account/?q=Creator",
        "/admin/accounts/account/?login_status__exact=logging_in",
        f"/admin/accounts/account/{account.pk}/change/",
        "/admin/accounts/account/add/",
        f"/admin/accounts/account/{account.pk}/login/",
        "/admin/accounts/worker/",
        f"/admin/accounts/worker/{worker.pk}/change/",
        "/admin/accounts/worker/add/",
        "/admin/accounts/loginsession/",
        f"/admin/accounts/loginsession/{session.pk}/change/",
    ]
    # when staff open each page
    responses = [admin_client_.get(url) for url in pages]
    # then each renders, the lists show badges, load and stats, and no secret appears
    assert [r.status_code for r in responses] == [200] * len(pages)
    account_list, worker_list = responses[0].content.decode(), responses[6].content.decode()
    assert 'class="imhub-badge" data-value="logging_in"' in account_list
    assert 'data-value="online"' in account_list
    assert "captcha page shown" in account_list
    assert "1 / 4" in worker_list
    assert "pss 120 MiB, rss 300 MiB" in worker_list
    everything = "".join(r.content.decode() for r in responses)
    for secret in (COOKIE, token, worker.token_hash, account.storage_state_encrypted, token[4:12]):
        assert secret not in everything


def test_login_page_post_starts_a_session_and_the_status_json_polls_it(admin_client_):
    # given a held account
    account, worker, _token = _held_account_with_secrets()
    # when staff start a login from the page, the worker shows a QR code, and the page polls
    started = admin_client_.post(f"/admin/accounts/account/{account.pk}/login/")
    session = LoginSession.objects.get(account=account)
    services.login_session_update(
        worker=worker,
        session_id=str(session.id),
        account_id=account.pk,
        status="qrcode_ready",
        qr_image="data:image/png;base64,QR1",
        message="scan me",
        expires_at=None,
        storage_state=None,
        profile=None,
    )
    polled = admin_client_.get(f"/admin/accounts/account/{account.pk}/login/{session.id}/status/").json()
    page = admin_client_.get(started["Location"]).content.decode()
    # then the redirect shows that session with its QR image, and the JSON carries status and image
    assert started.status_code == 302
    assert started["Location"] == f"/admin/accounts/account/{account.pk}/login/?session={session.id}"
    assert 'src="data:image/png;base64,QR1"' in page
    assert (polled["status"], polled["qr_image"], polled["message"], polled["is_final"]) == (
        "qrcode_ready",
        "data:image/png;base64,QR1",
        "scan me",
        False,
    )
    assert polled["login_status"] == "logging_in"


def test_status_json_is_staff_only():
    # given a login session and a logged-in non-staff user
    account, _worker, _token = _held_account_with_secrets()
    session = services.login_start(account=account)
    client = Client()
    client.force_login(User.objects.create_user("agent", password="pw"))
    # when the user polls the status
    response = client.get(f"/admin/accounts/account/{account.pk}/login/{session.id}/status/")
    # then the admin sends it to its login page
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_pause_action_revokes_through_the_service(admin_client_):
    # given a held account
    account, _worker, _token = _held_account_with_secrets()
    # when staff run the pause action on it
    response = admin_client_.post(
        "/admin/accounts/account/", {"action": "pause_accounts", "_selected_action": [account.pk]}
    )
    # then it is paused and unassigned
    account.refresh_from_db()
    assert response.status_code == 302
    assert (account.status, account.worker_id) == (AccountStatus.PAUSED, None)


def test_start_login_action_redirects_to_the_login_page(admin_client_):
    # given a held account
    account, _worker, _token = _held_account_with_secrets()
    # when staff run the start-login action
    response = admin_client_.post(
        "/admin/accounts/account/", {"action": "start_login", "_selected_action": [account.pk]}
    )
    # then a session exists and the browser goes to its page
    session = LoginSession.objects.get(account=account)
    assert response["Location"] == f"/admin/accounts/account/{account.pk}/login/?session={session.id}"


def test_change_form_status_change_pauses_and_resumes_with_a_new_epoch(admin_client_):
    # given a held account at epoch 1
    account, worker, _token = _held_account_with_secrets()
    form = {"platform": "douyin", "nickname": "Creator A", "monitor_interval": "60", "status": "paused"}
    # when staff set it paused in the form, then active again
    paused = admin_client_.post(f"/admin/accounts/account/{account.pk}/change/", form)
    after_pause = Account.objects.get(pk=account.pk)
    admin_client_.post(f"/admin/accounts/account/{account.pk}/change/", {**form, "status": "active"})
    after_resume = Account.objects.get(pk=account.pk)
    # then pausing unassigned it and resuming assigned it again at epoch 2
    assert paused.status_code == 302
    assert (after_pause.status, after_pause.worker_id) == ("paused", None)
    assert (after_resume.status, after_resume.worker_id, after_resume.epoch) == ("active", worker.pk, 2)
    assert after_resume.get_storage_state() == STATE


def test_add_account_in_admin_assigns_it_at_once(admin_client_):
    # given an online worker
    worker, _ = worker_online(worker_id="w1")
    form = {"platform": "douyin", "nickname": "New", "monitor_interval": "60", "status": "active"}
    # when staff add an account
    admin_client_.post("/admin/accounts/account/add/", form)
    # then the worker holds it
    assert Account.objects.get(nickname="New").worker_id == worker.pk


def test_worker_add_and_regenerate_show_the_token_once(admin_client_):
    # given nothing
    # when staff add a worker and then regenerate its token
    added = admin_client_.post(
        "/admin/accounts/worker/add/", {"worker_id": "w9", "capacity": "3"}, follow=True
    )
    worker = Worker.objects.get(worker_id="w9")
    first = next(str(m) for m in added.context["messages"]).rsplit(" ", 1)[1]
    regenerated = admin_client_.post(
        "/admin/accounts/worker/",
        {"action": "regenerate_tokens", "_selected_action": [worker.pk]},
        follow=True,
    )
    second = next(str(m) for m in regenerated.context["messages"]).rsplit(" ", 1)[1]
    later = admin_client_.get("/admin/accounts/worker/").content.decode()
    # then each token was shown once, only the newest works, and neither is shown again
    assert services.worker_authenticate(token=first) is None
    assert services.worker_authenticate(token=second) == worker
    assert first not in later and second not in later


def test_revoke_action_blocks_the_token(admin_client_):
    # given a worker with a token
    _account, worker, token = _held_account_with_secrets()
    # when staff revoke it
    admin_client_.post(
        "/admin/accounts/worker/", {"action": "revoke_tokens", "_selected_action": [worker.pk]}
    )
    # then it no longer authenticates and holds nothing
    assert services.worker_authenticate(token=token) is None
    assert Account.objects.filter(worker=worker).count() == 0

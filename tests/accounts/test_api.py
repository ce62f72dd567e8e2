"""Management API: permission matrix, CRUD with service side effects, 400s naming fields, no secrets."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Account, AccountStatus, Worker
from tests.accounts.conftest import worker_online

pytestmark = pytest.mark.django_db

COOKIE = "cookie-secret-4711"
STATE = {"cookies": [{"name": "sessionid", "value": COOKIE}], "origins": []}


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def staff() -> APIClient:
    return _client(User.objects.create_user("staff", password="pw", is_staff=True))


@pytest.fixture
def agent() -> APIClient:
    return _client(User.objects.create_user("agent", password="pw"))


def _routes(account_id: int, session_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/api/manage/accounts/", None),
        ("post", "/api/manage/accounts/", {"nickname": "n", "platform": "douyin"}),
        ("get", f"/api/manage/accounts/{account_id}/", None),
        ("patch", f"/api/manage/accounts/{account_id}/", {"nickname": "renamed"}),
        ("put", f"/api/manage/accounts/{account_id}/", {"nickname": "renamed", "platform": "douyin"}),
        ("post", f"/api/manage/accounts/{account_id}/pause/", None),
        ("post", f"/api/manage/accounts/{account_id}/resume/", None),
        ("post", f"/api/manage/accounts/{account_id}/reassign/", None),
        ("post", f"/api/manage/accounts/{account_id}/resync/", None),
        ("post", f"/api/manage/accounts/{account_id}/login/", None),
        ("get", "/api/manage/workers/", None),
        ("get", "/api/manage/login-sessions/", None),
        ("get", f"/api/manage/login-sessions/{session_id}/", None),
        ("delete", f"/api/manage/accounts/{account_id}/", None),
    ]


def _fixture_data() -> tuple[Account, str, str]:
    """An account with storage state held by a worker, a login session, and the worker's token."""
    account = Account.objects.create(nickname="a1", platform="douyin")
    account.set_storage_state(STATE)
    account.save()
    worker, _ = worker_online(worker_id="w1")
    token = services.worker_token_regenerate(worker=worker)
    session = services.login_start(account=account)
    return account, str(session.id), token


def test_anonymous_gets_401_and_non_staff_403_on_every_route(agent):
    # given data behind every route
    account, session_id, _token = _fixture_data()
    anonymous = APIClient()
    # when each route is called anonymously and as a non-staff agent
    results = [
        (
            getattr(anonymous, m)(url, body, format="json").status_code,
            getattr(agent, m)(url, body, format="json").status_code,
        )
        for m, url, body in _routes(account.pk, session_id)
    ]
    # then anonymous gets 401 and the agent 403, everywhere, and nothing changed
    assert results == [(401, 403)] * len(_routes(account.pk, session_id))
    assert Account.objects.get(pk=account.pk).nickname == "a1"


def test_staff_reaches_every_route_and_no_secret_appears_in_responses_or_logs(staff, caplog):
    # given an account with a cookie in its storage state, a worker token, a login session
    caplog.set_level(logging.DEBUG)
    account, session_id, token = _fixture_data()
    ciphertext = account.storage_state_encrypted
    # when staff call every route
    statuses, bodies = [], []
    for method, url, body in _routes(account.pk, session_id):
        response = getattr(staff, method)(url, body, format="json")
        statuses.append(response.status_code)
        bodies.append(response.content.decode())
    # then every route answered; no cookie, token, token hash or ciphertext appears anywhere
    assert statuses == [200, 201, 200, 200, 200, 200, 200, 200, 202, 201, 200, 200, 200, 204]
    text = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (COOKIE, token, token[4:12], Worker.hash_token(token), ciphertext):
        assert secret not in text


def test_create_assigns_at_once_when_a_worker_has_capacity(staff):
    # given an online worker
    _worker, _ = worker_online(worker_id="w1")
    # when staff create an account
    response = staff.post("/api/manage/accounts/", {"nickname": "new", "platform": "douyin"}, format="json")
    # then it is held by the worker at epoch 1
    assert response.status_code == 201
    assert (response.data["worker_id"], response.data["epoch"], response.data["status"]) == (
        "w1",
        1,
        "active",
    )


def test_invalid_input_is_a_400_naming_the_field_and_changes_nothing(staff):
    # given an account
    account = Account.objects.create(nickname="a1", platform="douyin")
    # when staff send a bad platform, a bad interval, a storage state and a read-only field
    bad_platform = staff.post("/api/manage/accounts/", {"platform": "myspace"}, format="json")
    bad_interval = staff.patch(f"/api/manage/accounts/{account.pk}/", {"monitor_interval": 0}, format="json")
    smuggled = staff.patch(f"/api/manage/accounts/{account.pk}/", {"storage_state": STATE}, format="json")
    read_only = staff.patch(f"/api/manage/accounts/{account.pk}/", {"epoch": 9}, format="json")
    # then each is a 400 naming its field, and the account is unchanged
    assert (bad_platform.status_code, list(bad_platform.data)) == (400, ["platform"])
    assert (bad_interval.status_code, list(bad_interval.data)) == (400, ["monitor_interval"])
    assert (smuggled.status_code, list(smuggled.data)) == (400, ["storage_state"])
    assert (read_only.status_code, list(read_only.data)) == (400, ["epoch"])
    account.refresh_from_db()
    assert (Account.objects.count(), account.monitor_interval, account.epoch) == (1, 60.0, 0)
    assert not account.has_storage_state


def test_patch_status_pauses_through_the_service(staff):
    # given a held account
    account = Account.objects.create(nickname="a1", platform="douyin")
    worker_online(worker_id="w1")
    # when staff set it paused
    response = staff.patch(f"/api/manage/accounts/{account.pk}/", {"status": "paused"}, format="json")
    # then it is paused and unassigned
    assert response.status_code == 200
    assert (response.data["status"], response.data["worker_id"]) == ("paused", None)
    assert Account.objects.get(pk=account.pk).status == AccountStatus.PAUSED


def test_resync_without_a_holder_is_a_409_with_a_code(staff):
    # given an unassigned account
    account = Account.objects.create(nickname="a1", platform="douyin")
    # when staff ask for a resync
    response = staff.post(f"/api/manage/accounts/{account.pk}/resync/")
    # then it is refused with the service's code
    assert (response.status_code, response.data["code"]) == (409, "not_assigned")


def test_workers_list_shows_load_and_no_token_fields(staff):
    # given a worker holding two accounts
    Account.objects.create(nickname="a1", platform="douyin")
    Account.objects.create(nickname="a2", platform="douyin")
    worker_online(worker_id="w1", capacity=5)
    # when staff list workers
    [row] = staff.get("/api/manage/workers/").data
    # then load, capacity and state are there and no token field is
    assert (row["worker_id"], row["status"], row["load"], row["capacity"]) == ("w1", "online", 2, 5)
    assert not [key for key in row if "token" in key and key != "token_revoked"]


def test_login_then_status_with_qr_image(staff):
    # given a held account
    account = Account.objects.create(nickname="a1", platform="douyin")
    worker, _ = worker_online(worker_id="w1")
    # when staff start a login and the worker reports a QR code
    started = staff.post(f"/api/manage/accounts/{account.pk}/login/")
    services.login_session_update(
        worker=worker,
        session_id=started.data["id"],
        account_id=account.pk,
        status="qrcode_ready",
        qr_image="data:image/png;base64,QR1",
        message="",
        expires_at=None,
        storage_state=None,
        profile=None,
    )
    status = staff.get(f"/api/manage/login-sessions/{started.data['id']}/")
    # then the session reads with its QR image
    assert (started.status_code, started.data["status"]) == (201, "pending")
    assert (status.data["status"], status.data["qr_image"], status.data["is_final"]) == (
        "qrcode_ready",
        "data:image/png;base64,QR1",
        False,
    )


def test_login_sessions_filter_rejects_a_bad_account_param(staff):
    # when the filter is not an integer
    response = staff.get("/api/manage/login-sessions/?account=x")
    # then the 400 names it
    assert (response.status_code, list(response.data)) == (400, ["account"])


def test_accounts_visible_to_scopes_by_team():
    # given two teams with one account each, an agent in one, and a superuser
    red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
    mine = Account.objects.create(nickname="mine", team=red)
    Account.objects.create(nickname="theirs", team=blue)
    Account.objects.create(nickname="nobody's")
    agent = User.objects.create_user("agent", password="pw")
    agent.groups.add(red)
    root = User.objects.create_superuser("root", password="pw")
    # when their visible accounts are listed
    # then the agent sees its team's, the superuser all
    assert list(services.accounts_visible_to(agent).values_list("pk", flat=True)) == [mine.pk]
    assert services.accounts_visible_to(root).count() == 3

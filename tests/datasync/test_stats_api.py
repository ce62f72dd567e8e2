"""`GET /api/datasync/stats/`: staff only; reports the store, this process and the database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from datasync import stats
from datasync.models import SyncState
from datasync.persistence import entities_upsert
from tests.datasync.conftest import held_account_create
from tests.datasync.records import comment

pytestmark = pytest.mark.django_db

URL = "/api/datasync/stats/"


def test_anonymous_gets_401() -> None:
    # when nobody logged in asks
    response = Client().get(URL)

    # then 401
    assert response.status_code == 401


def test_non_staff_gets_403() -> None:
    # given an agent without staff rights
    client = Client()
    client.force_login(User.objects.create_user("agent", password="x"))

    # when they ask
    response = client.get(URL)

    # then 403
    assert response.status_code == 403


def test_staff_sees_database_totals_counters_and_accounts_without_secrets() -> None:
    # given an account with two applied comments, a rejection counted, and a staff user
    held = held_account_create()
    entities_upsert(account_id=held.account.id, upserts={"comments": [comment("k1"), comment("k2")]})
    SyncState.objects.create(account=held.account, epoch=1, last_seq=1, frames_applied=1, items_applied=2)
    stats.stats_reset()
    stats.stats_frame_rejected(code="stale_epoch")
    client = Client()
    client.force_login(User.objects.create_user("boss", password="x", is_staff=True))

    # when staff asks
    response = client.get(URL)

    # then the figures are there and no token appears anywhere
    assert response.status_code == 200
    data = response.json()
    assert data["database"]["entities"]["comments"] == 2
    assert data["database"]["items_applied"] == 2
    assert data["process"]["frames_rejected_by_code"] == {"stale_epoch": 1}
    [account] = data["accounts"]
    assert (account["id"], account["worker"], account["last_seq"], account["items_applied"]) == (
        held.account.id,
        "w1",
        1,
        2,
    )
    assert held.token not in response.content.decode()

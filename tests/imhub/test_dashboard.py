"""The operator dashboard: per-account status and counts, workers, items synced per minute."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import Account, LoginStatus, Worker
from datasync.models import Entity
from imhub.dashboard import dashboard_context, items_per_minute


def _entity(account: Account, kind: str, platform_id: str, updated_ms: int) -> Entity:
    return Entity.objects.create(
        account=account, kind=kind, platform_id=platform_id, record={}, sort_at=0, updated_ms=updated_ms
    )


@pytest.mark.django_db
def test_items_per_minute_buckets_rows_by_apply_minute() -> None:
    # given rows applied 0, 0 and 2 minutes ago, and one two hours ago
    account = Account.objects.create(nickname="chart")
    now_ms = (int(time.time() * 1000) // 60000) * 60000 + 30000
    _entity(account, "comments", "1", now_ms - 1000)
    _entity(account, "comments", "2", now_ms - 2000)
    _entity(account, "messages", "3", now_ms - 120_000)
    _entity(account, "messages", "4", now_ms - 7_200_000)
    # when the series is computed
    series = items_per_minute(now_ms=now_ms, minutes=5)
    # then the last five minutes are there, oldest first, with the right counts
    assert [count for _, count in series] == [0, 0, 1, 0, 2]
    assert series[-1][0] == (now_ms // 60000) * 60000


@pytest.mark.django_db
def test_dashboard_context_counts_accounts_and_workers() -> None:
    worker = Worker.objects.create(worker_id="w-dash", status="online", capacity=5, stats={"outbox_depth": 3})
    logged = Account.objects.create(nickname="甲", login_status=LoginStatus.LOGGED_IN, worker=worker)
    Account.objects.create(nickname="乙", login_status=LoginStatus.EXPIRED, last_error="login expired")
    _entity(logged, "comments", "c1", int(time.time() * 1000))
    _entity(logged, "messages", "m1", int(time.time() * 1000))

    context = dashboard_context()

    assert context["logged_in"] == 1
    assert context["with_errors"] == 1
    assert [row["account"].nickname for row in context["rows"]] == ["甲", "乙"]
    assert context["rows"][0]["counts"] == [0, 1, 0, 1, 0]
    assert dict(context["kind_totals"])["comments"] == 1
    assert context["workers"][0]["load"] == 1
    assert context["workers"][0]["outbox_depth"] == 3
    assert context["workers"][0]["memory_mb"] is None  # no memory reported yet
    assert context["items_last_hour"] == 2


@pytest.mark.django_db
def test_dashboard_shows_a_workers_pss_or_an_older_workers_rss() -> None:
    Worker.objects.create(worker_id="w-new", stats={"rss_bytes": 900_000_000, "pss_bytes": 400_000_000})
    Worker.objects.create(worker_id="w-old", stats={"rss_bytes": 700_000_000})
    rows = {w["worker"].worker_id: w for w in dashboard_context()["workers"]}
    assert (rows["w-new"]["memory_mb"], rows["w-new"]["memory_kind"]) == (400.0, "PSS")
    assert (rows["w-old"]["memory_mb"], rows["w-old"]["memory_kind"]) == (700.0, "RSS")


@pytest.mark.django_db
def test_dashboard_renders_for_staff_and_redirects_others() -> None:
    Account.objects.create(nickname="渲染测试", login_status=LoginStatus.LOGGED_IN)
    staff = User.objects.create_user("ops", password="pw-12345678", is_staff=True)
    client = Client()
    assert client.get("/admin/dashboard/").status_code == 302
    client.force_login(staff)
    response = client.get("/admin/dashboard/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "渲染测试" in body
    assert "Items synced per minute" in body
    index = client.get("/admin/")
    assert "/admin/dashboard/" in index.content.decode()


@pytest.mark.django_db
def test_an_error_count_shows_beside_a_current_error_only() -> None:
    # given an account that logged in after the crawl attempted before its login counted one error,
    # and one in error now
    Account.objects.create(nickname="已登录", login_status=LoginStatus.LOGGED_IN, error_count=1)
    Account.objects.create(nickname="出错", last_error="risk: captcha", error_count=2)
    staff = User.objects.create_user("ops", password="pw-12345678", is_staff=True)
    client = Client()
    client.force_login(staff)
    # when the dashboard is shown
    body = client.get("/admin/dashboard/").content.decode()
    # then only the current error carries its count
    assert "risk: captcha <small>(2×)</small>" in body
    assert "(1×)" not in body

"""`/metrics` exposes sync counters, account and worker gauges and API latency in Prometheus format."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from accounts.models import Account, LoginStatus, Worker
from datasync import stats
from datasync.stats_share import process_label


def _metric_value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or line == name:
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.django_db
def test_metrics_report_accounts_workers_and_sync_counters() -> None:
    # given two logged-in accounts, one expired, a worker that reported its outbox, and counted frames
    Account.objects.create(nickname="a", login_status=LoginStatus.LOGGED_IN, runner_status="running")
    Account.objects.create(nickname="b", login_status=LoginStatus.LOGGED_IN, runner_status="running")
    Account.objects.create(nickname="c", login_status=LoginStatus.EXPIRED, runner_status="stopped")
    Worker.objects.create(
        worker_id="w-metrics",
        status="online",
        stats={"outbox_depth": 7, "rss_bytes": 4096, "pss_bytes": 1024},
    )
    stats.stats_reset()
    stats.stats_frame_received(frame_type="worker:data:sync")
    stats.stats_frame_received(frame_type="worker:data:sync")
    stats.stats_sync_applied(account_id=1, items=25, deleted=0, seconds=0.003)
    stats.stats_frame_rejected(code="stale_epoch")

    # when Prometheus scrapes
    response = Client().get("/metrics")
    text = response.content.decode()

    # then the figures are there, the sync counters labelled with this process
    p = f'process="{process_label()}"'
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert _metric_value(text, 'imhub_accounts_by_login_status{status="logged_in"}') == 2.0
    assert _metric_value(text, 'imhub_accounts_by_login_status{status="expired"}') == 1.0
    assert _metric_value(text, 'imhub_accounts_by_runner_status{status="running"}') == 2.0
    assert _metric_value(text, 'imhub_worker_outbox_depth{worker="w-metrics"}') == 7.0
    assert _metric_value(text, 'imhub_worker_rss_bytes{worker="w-metrics"}') == 4096.0
    assert _metric_value(text, 'imhub_worker_pss_bytes{worker="w-metrics"}') == 1024.0
    assert _metric_value(text, 'imhub_workers{status="online"}') == 1.0
    assert _metric_value(text, f'imhub_sync_frames_received_total{{{p},type="worker:data:sync"}}') == 2.0
    assert _metric_value(text, f"imhub_sync_frames_applied_total{{{p}}}") == 1.0
    assert _metric_value(text, f"imhub_sync_items_applied_total{{{p}}}") == 25.0
    assert _metric_value(text, f'imhub_sync_frames_rejected_total{{code="stale_epoch",{p}}}') == 1.0
    below_5ms = _metric_value(text, f'imhub_sync_apply_seconds_bucket{{le="0.005",{p}}}')
    below_1ms = _metric_value(text, f'imhub_sync_apply_seconds_bucket{{le="0.001",{p}}}')
    assert below_5ms is not None and below_1ms is not None
    assert below_5ms >= below_1ms + 1


@pytest.mark.django_db
def test_metrics_count_api_latency_by_route() -> None:
    client = Client()
    client.get("/api/datasync/stats/")  # anonymous: refused, but timed
    text = client.get("/metrics").content.decode()
    assert 'imhub_api_request_seconds_count{method="GET",route="api/datasync/stats/",status="401"}' in text


@pytest.mark.django_db
@override_settings(IMHUB_METRICS_TOKEN="scrape-secret")
def test_metrics_token_is_required_when_configured() -> None:
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200

"""Prometheus metrics at `/metrics`: sync traffic, apply and API latency, workers, accounts, outboxes.

Counters are per hub process (scrape every process). Sync counters come from `datasync.stats`; gauges
about workers and accounts are read from the database at scrape time; the API latency histogram is
filled by `ApiLatencyMiddleware`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=False)

API_LATENCY = Histogram(
    "imhub_api_request_seconds",
    "Time to answer an HTTP request, by method and route.",
    ["method", "route", "status"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)


class ApiLatencyMiddleware:
    """Times every request under /api/ and labels it with the resolved route pattern."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "<unmatched>"
        API_LATENCY.labels(request.method or "", route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


_latency_children: dict[tuple[str, str, int], Any] = {}


def api_latency_observe(method: str, route: str, status: int, seconds: float) -> None:
    """Record one request answered outside Django (the IM read lane) in the same histogram (the
    labelled child is looked up once per label set: ``labels()`` takes a lock and builds a key)."""
    key = (method, route, status)
    child = _latency_children.get(key)
    if child is None:
        child = _latency_children[key] = API_LATENCY.labels(method, route, str(status))
    child.observe(seconds)


class HubCollector(Collector):
    """Reads the hub's counters and the database's gauges at scrape time."""

    def describe(self) -> Iterable[Metric]:
        return []  # collected at scrape time only; never query the database at import

    def collect(self) -> Iterable[Metric]:
        yield from _sync_metrics()
        yield from _database_metrics()
        yield from _store_metrics()


def _sync_metrics() -> Iterable[Metric]:
    from datasync import stats

    process = stats.stats_process()
    received = CounterMetricFamily("imhub_sync_frames_received", "Worker frames received.", labels=["type"])
    for frame_type, count in sorted(process.get("frames_by_type", {}).items()):
        received.add_metric([frame_type], count)
    yield received
    yield CounterMetricFamily(
        "imhub_sync_frames_applied", "Sync frames applied durably.", value=process.get("frames_applied", 0)
    )
    yield CounterMetricFamily(
        "imhub_sync_frames_duplicate",
        "Sync frames acked again without re-applying.",
        value=process.get("frames_duplicate", 0),
    )
    rejected = CounterMetricFamily(
        "imhub_sync_frames_rejected", "Worker frames rejected, by code.", labels=["code"]
    )
    for code, count in sorted(process.get("frames_rejected_by_code", {}).items()):
        rejected.add_metric([code], count)
    yield rejected
    yield CounterMetricFamily(
        "imhub_sync_items_applied",
        "Entity records applied from sync frames.",
        value=process.get("items_applied", 0),
    )
    yield GaugeMetricFamily(
        "imhub_connected_workers",
        "Worker sockets open on this process.",
        value=len(process.get("connected_workers", [])),
    )
    histogram = getattr(stats, "stats_apply_histogram", None)
    if histogram is not None:
        buckets, total_sum = histogram()
        family = _histogram_family(
            "imhub_sync_apply_seconds",
            "Time to apply a sync frame (DB transaction to ack).",
            buckets,
            total_sum,
        )
        if family is not None:
            yield family


def _histogram_family(name: str, documentation: str, buckets: list[tuple[float, int]], total: float) -> Any:
    from prometheus_client.core import HistogramMetricFamily

    if not buckets:
        return None
    return HistogramMetricFamily(
        name,
        documentation,
        buckets=[("+Inf" if bound == float("inf") else str(bound), count) for bound, count in buckets],
        sum_value=total,
    )


def _database_metrics() -> Iterable[Metric]:
    from django.db.models import Count

    from accounts.models import Account, Worker

    login = GaugeMetricFamily(
        "imhub_accounts_by_login_status", "Accounts by login status.", labels=["status"]
    )
    for row in Account.objects.values("login_status").annotate(n=Count("id")).order_by():
        login.add_metric([row["login_status"]], row["n"])
    yield login
    runner = GaugeMetricFamily(
        "imhub_accounts_by_runner_status", "Accounts by runner status.", labels=["status"]
    )
    for row in Account.objects.values("runner_status").annotate(n=Count("id")).order_by():
        runner.add_metric([row["runner_status"] or "unknown"], row["n"])
    yield runner
    workers = GaugeMetricFamily("imhub_workers", "Workers by status.", labels=["status"])
    outbox = GaugeMetricFamily(
        "imhub_worker_outbox_depth",
        "Unacked frames in a worker's outbox (last heartbeat).",
        labels=["worker"],
    )
    rss = GaugeMetricFamily("imhub_worker_rss_bytes", "Worker memory (last heartbeat).", labels=["worker"])
    by_status: dict[str, int] = {}
    for worker in Worker.objects.all():
        by_status[worker.status] = by_status.get(worker.status, 0) + 1
        worker_stats = worker.stats or {}
        if "outbox_depth" in worker_stats:
            outbox.add_metric([worker.worker_id], float(worker_stats["outbox_depth"]))
        if "rss_bytes" in worker_stats:
            rss.add_metric([worker.worker_id], float(worker_stats["rss_bytes"]))
    for status, count in sorted(by_status.items()):
        workers.add_metric([status], count)
    yield workers
    yield outbox
    yield rss


def _store_metrics() -> Iterable[Metric]:
    try:
        from datasync.runtime import get_store
    except ImportError:
        return
    store = get_store()
    if store is None:
        return
    items = GaugeMetricFamily(
        "imhub_store_items", "Items in this process's DataStore, by kind.", labels=["kind"]
    )
    for kind, count in sorted(store.totals().items()):
        if isinstance(count, int):
            items.add_metric([kind], count)
    yield items


REGISTRY.register(HubCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` in the Prometheus text format; with IMHUB_METRICS_TOKEN set, a bearer token is required."""
    token = getattr(settings, "IMHUB_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

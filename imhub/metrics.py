"""Prometheus metrics at `/metrics`: sync traffic, apply and API latency, workers, accounts, outboxes.

Sync counters are every hub process's (`datasync.stats_share`: with Redis each process shares a snapshot
of its `datasync.stats` counters), labelled ``process="<hostname>:<pid>"``, so one scrape through the
shared port sees them all; gauges about workers and accounts are read from the database at scrape time;
the API latency histogram is the scraped process's own, filled by `ApiLatencyMiddleware` and the read
lane.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
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
        yield from _desk_metrics()
        yield from _fanout_metrics()


def _sync_metrics() -> Iterable[Metric]:
    from datasync.stats_share import stats_snapshots_all

    yield from sync_metrics_from_snapshots(stats_snapshots_all())


def sync_metrics_from_snapshots(snapshots: list[dict[str, Any]]) -> list[Metric]:
    """The sync counters of every hub process (``stats_share`` snapshots), each series labelled with its
    ``process``: a dashboard sums over that label for the hub's totals."""
    received = CounterMetricFamily(
        "imhub_sync_frames_received", "Worker frames received.", labels=["process", "type"]
    )
    applied = CounterMetricFamily(
        "imhub_sync_frames_applied", "Sync frames applied durably.", labels=["process"]
    )
    duplicate = CounterMetricFamily(
        "imhub_sync_frames_duplicate", "Sync frames acked again without re-applying.", labels=["process"]
    )
    rejected = CounterMetricFamily(
        "imhub_sync_frames_rejected", "Worker frames rejected, by code.", labels=["process", "code"]
    )
    items = CounterMetricFamily(
        "imhub_sync_items_applied", "Entity records applied from sync frames.", labels=["process"]
    )
    gaps = CounterMetricFamily(
        "imhub_fanout_gaps", "Fan-out messages that skipped a seq (the replica reloaded).", labels=["process"]
    )
    lane = CounterMetricFamily(
        "imhub_read_lane_requests",
        "IM API read requests: answered by the read lane, or passed to Django.",
        labels=["process", "outcome"],
    )
    workers = GaugeMetricFamily(
        "imhub_connected_workers", "Worker sockets open on a process.", labels=["process"]
    )
    latency = HistogramMetricFamily(
        "imhub_sync_apply_seconds", "Time to apply a sync frame (DB transaction to ack).", labels=["process"]
    )
    for snap in snapshots:
        label = snap["process"]
        for frame_type, count in sorted(snap["frames_by_type"].items()):
            received.add_metric([label, frame_type], count)
        applied.add_metric([label], snap["frames_applied"])
        duplicate.add_metric([label], snap["frames_duplicate"])
        for code, count in sorted(snap["frames_rejected_by_code"].items()):
            rejected.add_metric([label, code], count)
        items.add_metric([label], snap["items_applied"])
        gaps.add_metric([label], snap["fanout_gaps"])
        lane.add_metric([label, "answered"], snap["read_lane"]["answered"])
        lane.add_metric([label, "passed_to_django"], snap["read_lane"]["passed_to_django"])
        workers.add_metric([label], snap["connected_workers"])
        if snap["apply_buckets"]:
            latency.add_metric(
                [label],
                [("+Inf" if bound is None else str(bound), count) for bound, count in snap["apply_buckets"]],
                sum_value=snap["apply_sum"],
            )
    return [received, applied, duplicate, rejected, items, gaps, lane, workers, latency]


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
    listener = GaugeMetricFamily(
        "imhub_accounts_by_listener_status",
        "Accounts by push listener state (listening, polling, reinstalling; off: not listening).",
        labels=["status"],
    )
    for row in Account.objects.values("listener_status").annotate(n=Count("id")).order_by():
        listener.add_metric([row["listener_status"] or "off"], row["n"])
    yield listener
    workers = GaugeMetricFamily("imhub_workers", "Workers by status.", labels=["status"])
    outbox = GaugeMetricFamily(
        "imhub_worker_outbox_depth",
        "Unacked frames in a worker's outbox (last heartbeat).",
        labels=["worker"],
    )
    rss = GaugeMetricFamily(
        "imhub_worker_rss_bytes",
        "RSS summed over a worker and its Chromium; shared pages count once per process (last heartbeat).",
        labels=["worker"],
    )
    pss = GaugeMetricFamily(
        "imhub_worker_pss_bytes",
        "PSS summed over a worker and its Chromium: its memory footprint (last heartbeat).",
        labels=["worker"],
    )
    by_status: dict[str, int] = {}
    for worker in Worker.objects.all():
        by_status[worker.status] = by_status.get(worker.status, 0) + 1
        worker_stats = worker.stats or {}
        if "outbox_depth" in worker_stats:
            outbox.add_metric([worker.worker_id], float(worker_stats["outbox_depth"]))
        if "rss_bytes" in worker_stats:
            rss.add_metric([worker.worker_id], float(worker_stats["rss_bytes"]))
        if worker_stats.get("pss_bytes"):
            pss.add_metric([worker.worker_id], float(worker_stats["pss_bytes"]))
    for status, count in sorted(by_status.items()):
        workers.add_metric([status], count)
    yield workers
    yield outbox
    yield rss
    yield pss


def _store_metrics() -> Iterable[Metric]:
    from datasync.runtime import runtime

    store = runtime.store
    if store is None:
        return
    items = GaugeMetricFamily(
        "imhub_store_items", "Items in this process's DataStore, by kind.", labels=["kind"]
    )
    for kind, count in sorted(store.totals().items()):
        if isinstance(count, int):
            items.add_metric([kind], count)
    yield items


def _fanout_metrics() -> Iterable[Metric]:
    from datasync.runtime import runtime

    watch = runtime.fanout
    age = GaugeMetricFamily(
        "imhub_fanout_probe_age_seconds",
        "Seconds since this process last heard its own fan-out probe (replica lag bound; ~2 s when healthy).",
    )
    age.add_metric([], round(watch.probe_age, 3))
    yield age
    rejoins = GaugeMetricFamily("imhub_fanout_rejoins", "Times this process joined the fan-out groups again.")
    rejoins.add_metric([], watch.rejoins)
    yield rejoins
    state = GaugeMetricFamily("imhub_fanout_state", "1 for this process's fan-out state.", labels=["state"])
    state.add_metric([watch.state], 1)
    yield state


def _desk_metrics() -> Iterable[Metric]:
    from datasync.desk.activity import desk_index
    from datasync.desk.reports import desk_report

    threads = GaugeMetricFamily(
        "imhub_desk_threads", "Threads in the desk's queue, by status.", labels=["status"]
    )
    for status, count in desk_index.counts(visible=None, user_id=None)["all"].items():
        threads.add_metric([status], count)
    yield threads
    report = desk_report(account_ids=None, days=1)
    for name, key, what in (
        ("first_response", "first_response", "time from a customer's first unanswered item to the reply"),
        ("resolution", "resolution", "time a thread was open when it was resolved"),
    ):
        for by in ("agent", "account"):
            family = GaugeMetricFamily(
                f"imhub_desk_{name}_median_seconds_by_{by}",
                f"Median {what}, last 24 h, per {by}.",
                labels=[by],
            )
            for row in report[key][f"by_{by}"]:
                if row["median_s"] is not None:
                    family.add_metric([str(row["key"])], row["median_s"])
            yield family


REGISTRY.register(HubCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` in the Prometheus text format; with IMHUB_METRICS_TOKEN set, a bearer token is required,
    and in production (``IMHUB_ENV=production``) without one it is closed (403)."""
    token = settings.IMHUB_METRICS_TOKEN
    if not token and settings.IMHUB_ENV == "production":
        # production serves metrics only behind a token: set IMHUB_METRICS_TOKEN for the scraper
        return HttpResponse(
            "metrics need IMHUB_METRICS_TOKEN in production\n", status=403, content_type="text/plain"
        )
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

"""Operator dashboard in Django admin (`/admin/dashboard/`): accounts, workers, items synced per minute.

Item counts come from this process's DataStore when it is loaded (else from the database); the
per-minute chart counts entity rows by the minute the hub last applied them (`Entity.updated_ms`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.models import Account, Worker
from datasync.models import Entity
from datasync.protocol import ENTITY_KINDS

KINDS = ENTITY_KINDS
CHART_MINUTES = 60


@dataclass
class ChartBar:
    label: str
    count: int
    x: int
    y: int
    height: int


def _item_counts(account_ids: list[int]) -> dict[int, dict[str, int]]:
    from datasync.runtime import runtime

    store = runtime.store
    if store is not None and runtime.ready:
        return {account_id: store.account_totals(account_id) for account_id in account_ids}
    counts: dict[int, dict[str, int]] = {account_id: dict.fromkeys(KINDS, 0) for account_id in account_ids}
    for row in Entity.objects.values("account_id", "kind").annotate(n=Count("id")).order_by():
        counts.setdefault(row["account_id"], dict.fromkeys(KINDS, 0))[row["kind"]] = row["n"]
    return counts


def items_per_minute(*, now_ms: int | None = None, minutes: int = CHART_MINUTES) -> list[tuple[int, int]]:
    """[(minute start epoch ms, items applied in that minute)] for the last `minutes`, oldest first."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    end_minute = now_ms // 60000
    start_minute = end_minute - minutes + 1
    buckets = dict.fromkeys(range(start_minute, end_minute + 1), 0)
    rows = Entity.objects.filter(updated_ms__gte=start_minute * 60000).values_list("updated_ms", flat=True)
    for updated_ms in rows.iterator(chunk_size=5000):
        minute = updated_ms // 60000
        if minute in buckets:
            buckets[minute] += 1
    return [(minute * 60000, count) for minute, count in sorted(buckets.items())]


def _chart(series: list[tuple[int, int]], *, width: int = 720, height: int = 140) -> dict[str, Any]:
    peak = max((count for _, count in series), default=0)
    bar_width = max(2, width // max(1, len(series)))
    bars = []
    for index, (minute_ms, count) in enumerate(series):
        bar_height = round((count / peak) * (height - 20)) if peak else 0
        label = datetime.fromtimestamp(minute_ms / 1000, tz=UTC)
        bars.append(
            ChartBar(
                label=label.strftime("%H:%M"),
                count=count,
                x=index * bar_width,
                y=height - bar_height,
                height=bar_height,
            )
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": bar_width * len(series),
        "height": height,
        "bar_width": bar_width - 1,
    }


def _age_seconds(value: Any) -> int | None:
    return int((timezone.now() - value).total_seconds()) if value else None


def dashboard_context() -> dict[str, Any]:
    """Everything the dashboard shows; a plain function so tests can check it directly."""
    accounts = list(Account.objects.select_related("worker", "team").order_by("id"))
    counts = _item_counts([a.pk for a in accounts])
    heartbeat = float(settings.IMHUB_HEARTBEAT_INTERVAL)
    load = dict(
        Account.objects.filter(worker__isnull=False)
        .values_list("worker_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    workers = []
    for worker in Worker.objects.order_by("worker_id"):
        age = _age_seconds(worker.last_heartbeat_at)
        stats = worker.stats or {}
        workers.append(
            {
                "worker": worker,
                "heartbeat_age": age,
                "stale": age is None or age > 3 * heartbeat,
                "load": load.get(worker.pk, 0),
                # PSS (the footprint) when the worker sends it; an older worker's RSS sum otherwise
                "memory_mb": round(memory / 1e6, 1)
                if (memory := stats.get("pss_bytes") or stats.get("rss_bytes"))
                else None,
                "memory_kind": "PSS" if stats.get("pss_bytes") else "RSS",
                "outbox_depth": stats.get("outbox_depth"),
            }
        )
    rows: list[dict[str, Any]] = []
    for account in accounts:
        account_counts = counts.get(account.pk, dict.fromkeys(KINDS, 0))
        rows.append(
            {
                "account": account,
                "counts": [account_counts.get(kind, 0) for kind in KINDS],
                "total": sum(account_counts.get(kind, 0) for kind in KINDS),
                "sync_age": _age_seconds(account.last_sync_at),
            }
        )
    series = items_per_minute()
    return {
        "kinds": KINDS,
        "rows": rows,
        "workers": workers,
        "chart": _chart(series),
        "items_last_hour": sum(count for _, count in series),
        "kind_totals": [(kind, sum(r["counts"][i] for r in rows)) for i, kind in enumerate(KINDS)],
        "logged_in": sum(1 for a in accounts if a.login_status == "logged_in"),
        "with_errors": sum(1 for a in accounts if a.last_error),
        "desk": desk_context(),
    }


def desk_context() -> dict[str, Any]:
    """The desk's report over the last 7 days and the queue's size by status (every account)."""
    from datasync.desk.activity import desk_index
    from datasync.desk.reports import desk_report

    report = desk_report(account_ids=None, days=7)
    names = dict(Account.objects.values_list("id", "nickname"))
    for table in (report["first_response"]["by_account"], report["resolution"]["by_account"]):
        for row in table:
            row["key"] = names.get(row["key"], f"#{row['key']}")
    report["queue"] = desk_index.counts(visible=None, user_id=None)["all"]
    report["hours"] = list(
        zip(
            range(24),
            report["inbound_by_hour"],
            report["replies_by_hour"],
            report["resolved_by_hour"],
            strict=True,
        )
    )
    return report


@staff_member_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": "imhub dashboard", **dashboard_context()}
    return TemplateResponse(request, "imhub/dashboard.html", context)

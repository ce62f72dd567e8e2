"""Desk reports: first response and resolution times per agent and per account, volume by hour.

Read from the audit rows (``ThreadEvent``): a reply event carries how long the customer had waited when
it was sent (``waited_ms``), a resolve event how long the thread had been open (``open_ms``). Volume by
hour counts the replies sent and the threads resolved per hour of the day (UTC) in the window, plus the
customers' inbound items from the store. The admin dashboard and ``/metrics`` show the same figures.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.utils import timezone

from datasync.desk.models import ThreadEvent, ThreadEventKind

MAX_DAYS = 90


def _figures(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median_s": None, "mean_s": None}
    return {
        "count": len(values),
        "median_s": round(statistics.median(values) / 1000, 1),
        "mean_s": round(statistics.fmean(values) / 1000, 1),
    }


def desk_report(*, account_ids: frozenset[int] | None, days: int = 7) -> dict[str, Any]:
    """The report over the last ``days`` days for the given accounts (None: all)."""
    since = timezone.now() - timedelta(days=max(1, min(days, MAX_DAYS)))
    events = ThreadEvent.objects.filter(
        at__gte=since, action__in=(ThreadEventKind.REPLY, ThreadEventKind.STATUS)
    ).select_related("actor")
    if account_ids is not None:
        events = events.filter(account_id__in=account_ids)
    first: dict[str, dict[Any, list[int]]] = {"agent": defaultdict(list), "account": defaultdict(list)}
    resolution: dict[str, dict[Any, list[int]]] = {"agent": defaultdict(list), "account": defaultdict(list)}
    replies_by_hour = [0] * 24
    resolved_by_hour = [0] * 24
    for event in events.iterator(chunk_size=2000):
        agent = event.actor.get_username() if event.actor is not None else "-"
        data = event.data or {}
        if event.action == ThreadEventKind.REPLY:
            replies_by_hour[event.at.hour] += 1
            if data.get("waited_ms") is not None:
                first["agent"][agent].append(int(data["waited_ms"]))
                first["account"][event.account_id].append(int(data["waited_ms"]))
        elif data.get("status") == "resolved":
            resolved_by_hour[event.at.hour] += 1
            if data.get("open_ms") is not None:
                resolution["agent"][agent].append(int(data["open_ms"]))
                resolution["account"][event.account_id].append(int(data["open_ms"]))

    def table(source: dict[Any, list[int]]) -> list[dict[str, Any]]:
        return [
            {"key": key, **_figures(values)}
            for key, values in sorted(source.items(), key=lambda kv: str(kv[0]))
        ]

    return {
        "days": max(1, min(days, MAX_DAYS)),
        "first_response": {"by_agent": table(first["agent"]), "by_account": table(first["account"])},
        "resolution": {"by_agent": table(resolution["agent"]), "by_account": table(resolution["account"])},
        "replies_by_hour": replies_by_hour,
        "resolved_by_hour": resolved_by_hour,
        "inbound_by_hour": _inbound_by_hour(account_ids=account_ids, since_ms=int(since.timestamp() * 1000)),
    }


def _inbound_by_hour(*, account_ids: frozenset[int] | None, since_ms: int) -> list[int]:
    from datasync.runtime import runtime

    store = runtime.store
    if store is None:
        return [0] * 24
    hours = [0] * 24
    for account_id in store.account_ids():
        if account_ids is None or account_id in account_ids:
            for hour, count in enumerate(store.inbound_by_hour(account_id=account_id, since=since_ms)):
                hours[hour] += count
    return hours

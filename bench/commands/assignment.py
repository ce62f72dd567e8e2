"""`python -m bench assignment [--workers N] [--accounts M]`: time the assignment service.

Runs inside one transaction that is rolled back, so the database is left as it was. Prints JSON:
seconds for a full rebalance of M waiting accounts, a no-op expiry pass, a heartbeat, and the failover
of one silent worker (its accounts reassigned with new epochs). Commands are queued on commit and so
never sent (the rollback drops them).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import Account, Worker, WorkerStatus


class _Rollback(Exception):
    pass


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 4)


class Command(BaseCommand):
    help = "Time rebalance, expiry, heartbeat and failover (in a rolled-back transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=50)
        parser.add_argument("--accounts", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        n_workers, n_accounts = options["workers"], options["accounts"]
        capacity = -(-n_accounts * 2 // n_workers)  # room for a failover
        result: dict[str, Any] = {"workers": n_workers, "accounts": n_accounts, "capacity": capacity}
        try:
            with transaction.atomic():
                now = timezone.now()
                workers = [Worker(worker_id=f"bench-{i:04d}", capacity=capacity) for i in range(n_workers)]
                for w in workers:
                    w.issue_token()
                    w.status, w.platforms, w.last_heartbeat_at = WorkerStatus.ONLINE, ["douyin"], now
                Worker.objects.bulk_create(workers)
                Account.objects.bulk_create(
                    [Account(nickname=f"bench-{i}", platform="douyin") for i in range(n_accounts)]
                )
                _, result["rebalance_s"] = _timed(services.accounts_rebalance)
                _, result["expire_noop_s"] = _timed(services.workers_expire_silent)
                first = Worker.objects.get(worker_id="bench-0000")
                _, result["heartbeat_s"] = _timed(lambda: services.worker_heartbeat(worker=first, stats={}))
                held = Account.objects.filter(worker=first).count()
                silence = dt.timedelta(seconds=3 * float(settings.IMHUB_HEARTBEAT_INTERVAL) + 1)
                later = timezone.now() + silence
                Worker.objects.exclude(pk=first.pk).update(last_heartbeat_at=later)
                expired, result["failover_s"] = _timed(lambda: services.workers_expire_silent(now=later))
                result["failover_worker"], result["failover_accounts"] = expired, held
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(json.dumps(result))

"""On PostgreSQL (row locks): concurrent rebalances and expiries, as several hub processes run them,
never over-fill a worker, hand an account out twice, or bump an epoch twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from tests.support.processes import make_hub

pytestmark = [pytest.mark.postgres]

RACE = """
import datetime as dt, json, threading
from django.db import connection
from django.utils import timezone
from accounts import services
from accounts.models import Account, Worker, WorkerStatus

for worker_id in ("w1", "w2", "w3"):
    services.worker_create(worker_id=worker_id, capacity=4)
Worker.objects.update(status=WorkerStatus.ONLINE, platforms=["douyin"], last_heartbeat_at=timezone.now())
Account.objects.bulk_create([Account(nickname=f"a{i}", platform="douyin") for i in range(10)])

def race(fn):
    barrier, results, errors = threading.Barrier(6), [], []
    def run():
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:
            errors.append(repr(exc))
        finally:
            connection.close()
    threads = [threading.Thread(target=run) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results, errors

_, rebalance_errors = race(services.accounts_rebalance)
after_rebalance = sorted(Account.objects.exclude(worker=None).values_list("worker__worker_id", "epoch"))
# w1 goes silent: everyone else beats later
later = timezone.now() + dt.timedelta(seconds=3 * 10.0 + 5)
Worker.objects.exclude(worker_id="w1").update(last_heartbeat_at=later)
expired, expire_errors = race(lambda: services.workers_expire_silent(now=later))
after_expiry = sorted(Account.objects.exclude(worker=None).values_list("worker__worker_id", "epoch"))
# six new workers connect at the same moment while 14 accounts wait (two from w1, twelve new)
import itertools
counter = itertools.count()
for i in range(6):
    services.worker_create(worker_id=f"c{i}", capacity=2)
Account.objects.bulk_create([Account(nickname=f"b{i}", platform="douyin") for i in range(12)])
def connect_one():
    worker = Worker.objects.get(worker_id=f"c{next(counter)}")
    held = services.worker_connect(worker=worker, capabilities=["douyin"], max_accounts=10, host="h", version="1")
    return [a.pk for a in held]
connected, connect_errors = race(connect_one)
print(json.dumps({
    "connected": sorted(len(pks) for pks in connected),
    "connected_distinct": len({pk for pks in connected for pk in pks}),
    "connect_errors": connect_errors,
    "waiting_after_connect": Account.objects.filter(worker=None).count(),
    "rebalance_errors": rebalance_errors,
    "after_rebalance": after_rebalance,
    "expired": sorted(sum(expired, [])),
    "expire_errors": expire_errors,
    "after_expiry": after_expiry,
}))
"""


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own for this test, dropped at the end."""
    name = f"imhub_acc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunparse(urlparse(postgres_url)._replace(path=f"/{name}"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_concurrent_rebalance_and_expiry_on_postgres(tmp_path: Path, fresh_database: str) -> None:
    # given a migrated PostgreSQL database, 3 online workers of capacity 4 and 10 waiting accounts
    hub = make_hub(tmp_path, database_url=fresh_database, IMHUB_HEARTBEAT_INTERVAL="10")
    # when 6 threads (own connections) rebalance at once, then w1 goes silent and 6 threads expire at
    # once, then 6 new workers connect at once
    result = json.loads(hub.shell(RACE).strip().splitlines()[-1])
    # then each account was assigned once (epoch 1), least loaded first: 4, 3, 3
    assert result["rebalance_errors"] == []
    assert result["after_rebalance"] == [["w1", 1]] * 4 + [["w2", 1]] * 3 + [["w3", 1]] * 3
    # and exactly one expiry took w1 offline; of its 4 accounts one moved to each free slot with
    # epoch 2 (bumped once, not once per thread) and two wait
    assert result["expire_errors"] == []
    assert result["expired"] == ["w1"]
    assert result["after_expiry"] == [["w2", 1]] * 3 + [["w2", 2]] + [["w3", 1]] * 3 + [["w3", 2]]
    # and the six connects (no deadlock between them) took two accounts each, none twice; two wait
    assert result["connect_errors"] == []
    assert result["connected"] == [2] * 6
    assert result["connected_distinct"] == 12
    assert result["waiting_after_connect"] == 2

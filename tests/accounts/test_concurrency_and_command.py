"""Concurrent assignment never over-fills a worker or hands an account out twice; create_worker."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import services
from accounts.models import Account, Worker, WorkerStatus


@pytest.mark.django_db(transaction=True)
def test_concurrent_rebalances_respect_capacity_and_assign_each_account_once():
    # is_in_memory_db() exists only on the SQLite backend's wrapper, which the vendor check ensures
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip(
            "in-memory SQLite test database has table locks, not IMMEDIATE file locking; run on PostgreSQL"
        )
    # given two online workers with capacity 3 each and 10 waiting accounts (created without assignment)
    for worker_id in ("w1", "w2"):
        services.worker_create(worker_id=worker_id, capacity=3)
    Worker.objects.update(status=WorkerStatus.ONLINE, platforms=["douyin"])
    Account.objects.bulk_create([Account(nickname=f"a{i}", platform="douyin") for i in range(10)])
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def rebalance() -> None:
        try:
            barrier.wait()
            services.accounts_rebalance()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    # when four threads (each its own connection) rebalance at once
    threads = [threading.Thread(target=rebalance) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then each worker holds exactly 3, every assigned account was assigned once (epoch 1), 4 wait
    assert errors == []
    loads = sorted(Account.objects.filter(worker__isnull=False).values_list("worker__worker_id", flat=True))
    assert loads == ["w1"] * 3 + ["w2"] * 3
    assert sorted(Account.objects.values_list("epoch", flat=True)) == [0] * 4 + [1] * 6


@pytest.mark.django_db
def test_create_worker_prints_the_token_once_and_stores_only_its_hash():
    # given nothing
    out, err = StringIO(), StringIO()
    # when the command runs
    call_command("create_worker", "w7", "--capacity", "4", stdout=out, stderr=err)
    # then stdout is just the token, which authenticates, and the worker has the capacity
    token = out.getvalue().strip()
    worker = Worker.objects.get(worker_id="w7")
    assert token.startswith("imw_")
    assert services.worker_authenticate(token=token) == worker
    assert worker.capacity == 4
    assert token not in err.getvalue()


@pytest.mark.django_db
def test_create_worker_refuses_a_duplicate_id():
    # given a worker w7
    call_command("create_worker", "w7", stdout=StringIO(), stderr=StringIO())
    # when it is created again
    with pytest.raises(CommandError) as refused:
        call_command("create_worker", "w7", stdout=StringIO(), stderr=StringIO())
    # then the error says why
    assert str(refused.value) == "a worker with worker_id 'w7' already exists"

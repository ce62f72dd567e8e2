"""Fixtures for the datasync tests: a worker with a token holding one account, a clean runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts.models import Account, Worker
from datasync import stats
from datasync.runtime import runtime


@dataclass
class Held:
    worker: Worker
    token: str
    account: Account


def held_account_create(*, worker_id: str = "w1", epoch: int = 1) -> Held:
    """A worker (with its plaintext token) that holds one active Douyin account at `epoch`."""
    worker = Worker(worker_id=worker_id, capacity=10, platforms=["douyin"])
    token = worker.issue_token()
    worker.save()
    account = Account.objects.create(
        nickname=f"acct-{worker_id}", platform="douyin", worker=worker, epoch=epoch
    )
    return Held(worker=worker, token=token, account=account)


@pytest.fixture
async def clean_runtime() -> AsyncIterator[Any]:
    """Per-process state reset before and after a test that drives the ASGI application."""
    await runtime.stop()
    stats.stats_reset()
    yield runtime
    await runtime.stop()
    stats.stats_reset()


@pytest.fixture
async def held(clean_runtime: Any) -> Held:
    return await database_sync_to_async(held_account_create)()

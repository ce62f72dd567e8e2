"""Fixtures of the fault tests: private servers they may restart, stop and fill (tests/support/services.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import PostgresServer, RedisServer, ServiceUnavailable


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own; skips with the reason when it cannot run here."""
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
    except ServiceUnavailable as exc:
        pytest.skip(f"private Redis unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of this test's own; skips with the reason when it cannot run here."""
    server = PostgresServer(tmp_path / "pg")
    try:
        server.start()
    except ServiceUnavailable as exc:
        pytest.skip(f"private PostgreSQL unavailable: {exc}")
    yield server
    server.stop()

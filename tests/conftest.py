"""Shared pytest fixtures: service URLs for the PostgreSQL/Redis tests and process helpers."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

POSTGRES_URL = os.environ.get("IMHUB_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL URL for multi-process tests; skips (with the reason) when the server is not there."""
    if not _reachable(POSTGRES_URL):
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set IMHUB_TEST_POSTGRES_URL)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis URL for channels-redis tests; skips (with the reason) when the server is not there."""
    if not _reachable(REDIS_URL):
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set IMHUB_TEST_REDIS_URL)")
    return REDIS_URL


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """In-process tests hash passwords with a fast hasher (PBKDF2 costs ~0.5 s a user on these cores);
    real processes started by e2e tests keep the production hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _snapshot_in_tmp(settings: object, tmp_path: Path) -> None:
    """In-process runtimes keep their start-up snapshot in the test's own directory, never in var/."""
    settings.IMHUB_SNAPSHOT_PATH = str(tmp_path / "datastore.snapshot")  # type: ignore[attr-defined]


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own for this test, dropped at the end."""
    name = f"imhub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parsed = urlparse(postgres_url)
    yield urlunparse(parsed._replace(path=f"/{name}"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each engine in turn: a SQLite file in the test's directory, then a
    PostgreSQL database of its own (for code run in a process of its own against either engine)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'engine.sqlite3'}"
    return str(request.getfixturevalue("fresh_database"))


@pytest.fixture
def fresh_redis_url(redis_url: str) -> str:
    """``redis_url`` on a random logical db, so that other test runs on the same server do not share
    the fan-out group or the stats snapshots."""
    return urlunparse(urlparse(redis_url)._replace(path=f"/{random.randint(1, 15)}"))


@pytest.fixture
def rewire() -> Iterator[Callable[..., None]]:
    """``rewire(**changes)``: this process's runtime rebuilt with its wiring changed (the public
    ``runtime.build``, so the wiring is checked), for one test; its own wiring again afterwards."""
    from datasync.runtime import runtime

    original = runtime.wiring

    def apply(**changes: object) -> None:
        runtime.build(dataclasses.replace(runtime.wiring, **changes))  # type: ignore[arg-type]

    yield apply
    runtime.build(original)

"""Fixtures for the multi-process end-to-end tests: a fresh PostgreSQL database, a random Redis db."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest


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


@pytest.fixture
def redis_db_url(redis_url: str) -> str:
    """The Redis server on a random logical db, so that other test runs on the same server do not
    share the fan-out group."""
    return urlunparse(urlparse(redis_url)._replace(path=f"/{random.randint(1, 15)}"))

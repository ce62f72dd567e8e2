"""The fault tests' private servers behave as the faults need: a restarted Redis is empty, a stopped
PostgreSQL refuses connections and keeps its data when started again, a full tmpfs refuses writes."""

from __future__ import annotations

import errno
from pathlib import Path

import psycopg
import pytest
import redis

from tests.support.services import PostgresServer, RedisServer, ServiceUnavailable, disk_fill, tmpfs_mount

pytestmark = [pytest.mark.faults]


def test_a_restarted_private_redis_has_forgotten_everything(private_redis: RedisServer) -> None:
    # given a key and a group member in the private server
    client = redis.Redis.from_url(private_redis.url)
    client.set("k", "v")
    client.zadd("asgi:group:g", {"member": 1})
    # when it is restarted on the same port
    private_redis.restart()
    # then it answers again, empty
    client = redis.Redis.from_url(private_redis.url)
    assert client.ping() is True
    assert client.get("k") is None
    assert client.zcard("asgi:group:g") == 0


def test_a_stopped_private_postgres_refuses_and_comes_back_with_its_data(
    private_postgres: PostgresServer,
) -> None:
    # given a row committed in a database of the private server
    url = private_postgres.create_database("faults")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (v int)")
        conn.execute("INSERT INTO t VALUES (7)")
    # when the server stops, then connections are refused
    private_postgres.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    # and when it starts again the row is there
    private_postgres.start()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [(7,)]


def test_a_full_tmpfs_refuses_writes(tmp_path: Path) -> None:
    try:
        with tmpfs_mount(tmp_path / "small", size_mb=2) as mounted:
            # given a filesystem filled to the last byte
            filler = disk_fill(mounted)
            # when one more byte is written, then the write fails with ENOSPC
            with pytest.raises(OSError) as failure, (mounted / "more.bin").open("wb") as out:
                out.write(b"x" * 8192)
                out.flush()
            assert failure.value.errno == errno.ENOSPC
            # and deleting the filler frees the space again
            filler.unlink()
            (mounted / "again.bin").write_bytes(b"x" * 8192)
    except ServiceUnavailable as exc:
        pytest.skip(f"tmpfs unavailable: {exc}")

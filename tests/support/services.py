"""Private Redis and PostgreSQL servers and a small tmpfs, for the fault tests.

The fault tests restart, stop and fill what they run on, so they never touch the shared servers on
the standard ports: each fixture starts its own server on a free port, in the test's own directory,
and removes it at the end. Where a server cannot be started here (no binary, not allowed to mount),
the fixture skips with the reason.

- `RedisServer`: `redis-server` on a free port, nothing on disk; `restart()` forgets every key and
  every group membership, as a failover to an empty replica does.
- `PostgresServer`: a cluster made by `initdb` (as the `postgres` user when this process is root,
  since PostgreSQL refuses to run as root), trust auth on 127.0.0.1; `stop()` / `start()` keep its data.
- `tmpfs_mount(path, size_mb)`: a size-limited tmpfs at `path` (root only) for disk-full tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imhub.processes import free_port


class ServiceUnavailable(RuntimeError):
    """The server cannot be run on this machine; the message says why (tests skip with it)."""


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(predicate: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")


@dataclass
class RedisServer:
    """A `redis-server` of the test's own (no persistence)."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server is not installed")
        self.port = self.port or free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with (self.workdir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [*args, "--dir", str(self.workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _wait(lambda: _port_open(self.port), timeout=15, what=f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        """SIGKILL: a crash, so nothing is saved (nothing would be anyway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, *, down_for: float = 0.0) -> None:
        """Kill the server, stay down `down_for` seconds, start it empty on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of the test's own; its data survives `stop()` / `start()`."""

    workdir: Path
    port: int = 0
    _bin: Path | None = None
    _user: str | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def datadir(self) -> Path:
        return self.workdir / "pgdata"

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> PostgresServer:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
        if not found[-1]:
            raise ServiceUnavailable("PostgreSQL's initdb is not installed")
        self._bin = Path(found[-1]).parent
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailable("running as root and there is no postgres user for initdb") from None
            if shutil.which("runuser") is None:
                raise ServiceUnavailable("running as root and runuser is not installed")
            self._user = "postgres"
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.workdir, entry.pw_uid, entry.pw_gid)
            # the cluster's owner must be able to reach its directory
            parent = self.workdir
            while parent != parent.parent:
                parent = parent.parent
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self.port = self.port or free_port()
        done = self._run(
            str(self._bin / "initdb"), "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        if done.returncode != 0:
            raise ServiceUnavailable(f"initdb failed: {done.stderr.strip()[-300:]}")
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.workdir}'\nfsync = off\nfull_page_writes = off\n"
            )
        return self

    def start(self) -> PostgresServer:
        if self._bin is None:
            self.init()
        assert self._bin is not None
        done = self._run(
            str(self._bin / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.workdir / "postgres.log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise ServiceUnavailable(f"pg_ctl start failed: {done.stderr.strip()[-300:]}")
        _wait(lambda: _port_open(self.port), timeout=30, what=f"PostgreSQL on port {self.port}")
        return self

    def stop(self, *, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: like a crash, no checkpoint; `fast`: a clean stop)."""
        if self._bin is None or not (self.datadir / "postmaster.pid").exists():
            return
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        """A new database on this server; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def tmpfs_mount(path: Path, *, size_mb: int) -> Iterator[Path]:
    """A tmpfs of `size_mb` MiB at `path` for the block; ServiceUnavailable when it cannot be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        raise ServiceUnavailable("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ServiceUnavailable(f"mount -t tmpfs failed: {done.stderr.strip()}")
    try:
        yield path
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.25)


def disk_fill(path: Path, *, leave_bytes: int = 0) -> Path:
    """Fill the filesystem holding `path` until at most `leave_bytes` are free; returns the filler file
    (delete it to free the space again)."""
    filler = path / "filler.bin"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb") as out:
        while True:
            free = shutil.disk_usage(path).free
            if free <= leave_bytes:
                break
            try:
                out.write(chunk[: max(1, min(len(chunk), free - leave_bytes))])
                out.flush()
            except OSError:
                break
    return filler

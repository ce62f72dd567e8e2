"""The real imhub processes (hub, simulator, worker) for end-to-end tests, on `imhub.processes`.

Each process gets a free port on 127.0.0.1, its own log file, and is stopped (then killed) at the end.
The hub's database is its own file (or the PostgreSQL URL given), migrated before the hub starts.
Launching lives in `imhub.processes` (shared with the demo); this module adds the tests' set-ups.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imhub.processes import (
    PYTHON,
    ROOT,
    ManagedProcess,
    child_env,
    free_port,
    http_json,
    hub_start,
    manage,
    simulator_start,
    wait_until,
    worker_command,
)

__all__ = [
    "PYTHON",
    "ROOT",
    "Hub",
    "ManagedProcess",
    "Simulator",
    "base_env",
    "free_port",
    "http_json",
    "make_hub",
    "running_hub",
    "running_simulator",
    "start_simulator",
    "start_worker",
    "wait_until",
]


def base_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this one's, minus test-only settings, plus `extra`."""
    env = child_env(drop=("DATABASE_URL", "REDIS_URL"))
    env.update({"LOG_LEVEL": "INFO", **extra})
    return env


@dataclass
class Hub:
    """A running hub: `imhub.processes.hub_command` (IMHUB_SERVER picks the server) on `port`, with its own
    database; ``processes`` > 1 serves from several processes on that port (needs REDIS_URL)."""

    port: int
    env: dict[str, str]
    workdir: Path
    process: ManagedProcess | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    processes: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"hub-{self.port}.log"

    def manage(self, *args: str, check: bool = True, timeout: float = 120.0) -> str:
        """Run `manage.py <args>` against this hub's database; returns stdout."""
        return manage(*args, env=self.env, timeout=timeout, check=check)

    def shell(self, code: str) -> str:
        """Run Python code in `manage.py shell` against this hub's database; returns stdout."""
        return self.manage("shell", "-c", code)

    def start(self, *, timeout: float = 60.0) -> Hub:
        self.process = hub_start(
            port=self.port,
            env=self.env,
            log_path=self.log_path,
            name=f"hub:{self.port}",
            timeout=timeout,
            processes=self.processes,
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self) -> Hub:
        self.stop()
        return self.start()


def make_hub(
    workdir: Path,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    port: int | None = None,
    migrate: bool = True,
    processes: int = 1,
    **env_extra: str,
) -> Hub:
    """Prepare (and migrate) a hub that has not been started yet."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'hub.sqlite3'}",
        IMHUB_VAR_DIR=str(workdir / "var"),
        SECRET_KEY="e2e-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        # hub processes of one test share it (a generated key would differ per var dir)
        STORAGE_STATE_KEY="e2e-test-storage-state-key-0123456789-abcdefghij",
        **env_extra,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    hub = Hub(port=port or free_port(), env=env, workdir=workdir, processes=processes)
    if migrate:
        hub.manage("migrate", "--noinput", "-v", "0")
    return hub


@contextlib.contextmanager
def running_hub(workdir: Path, **kwargs: Any) -> Iterator[Hub]:
    """Context manager: a migrated, started hub that is stopped on exit."""
    hub = make_hub(workdir, **kwargs)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@dataclass
class Simulator:
    """A running `manage.py runsimulator douyin` process and its base URL."""

    process: ManagedProcess
    base_url: str

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a `/__sim__/` control endpoint; raises on a non-2xx answer."""
        status, payload = http_json(method, f"{self.base_url}/__sim__/{path.lstrip('/')}", body=body)
        if not 200 <= status < 300:
            raise RuntimeError(f"simulator control {method} {path} -> {status}: {payload}")
        return payload

    def stop(self) -> None:
        self.process.stop()


def start_simulator(
    workdir: Path,
    *,
    seed: int = 1,
    accounts: int = 3,
    extra_args: tuple[str, ...] | list[str] = (),
    port: int | None = None,
    timeout: float = 30.0,
) -> tuple[ManagedProcess, str]:
    """Start the Douyin simulator on a free port as a real process; returns (process, base_url) once it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = simulator_start(
        port=port,
        env=base_env(),
        log_path=workdir / f"simulator-{port}.log",
        name=f"simulator:{port}",
        timeout=timeout,
        seed=seed,
        accounts=accounts,
        extra=extra_args,
    )
    base_url = f"http://127.0.0.1:{port}"
    return process, base_url


@contextlib.contextmanager
def running_simulator(workdir: Path, **kwargs: Any) -> Iterator[Simulator]:
    """Context manager: a started simulator that is stopped on exit."""
    process, base_url = start_simulator(workdir, **kwargs)
    try:
        yield Simulator(process=process, base_url=base_url)
    finally:
        process.stop()


def start_worker(
    workdir: Path,
    *,
    hub: Hub,
    token: str,
    worker_id: str = "w1",
    base_url: str | None = None,
    extra_args: tuple[str, ...] | list[str] = (),
    **env_extra: str,
) -> ManagedProcess:
    """Start `manage.py runworker_crawler` as a real process (token in the environment, not the args)."""
    workdir.mkdir(parents=True, exist_ok=True)
    # The e2e suites drive crawls at their own short intervals, listening or not (the listener's
    # tests and the freshness benchmark set the product's stretched interval themselves).
    env = base_env(IMHUB_WORKER_TOKEN=token, **{"IMHUB_LISTEN_CRAWL_INTERVAL": "0", **env_extra})
    if base_url:
        env["IMHUB_DOUYIN_BASE_URL"] = base_url
    return ManagedProcess(
        name=f"worker:{worker_id}",
        args=worker_command(
            worker_id=worker_id,
            hub_url=hub.ws_url,
            data_dir=workdir / "worker-data",
            extra=["--status-interval", "2", *extra_args],
        ),
        env=env,
        log_path=workdir / f"worker-{worker_id}.log",
    ).start()

"""Start the real imhub processes (hub, simulator, worker) for end-to-end tests.

Each process gets a free port on 127.0.0.1, its own log file, and is stopped (then killed) at the end.
The hub's database is its own file (or the PostgreSQL URL given), migrated before the hub starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imhub.serve import hub_command

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One HTTP request with a JSON body; returns (status, decoded JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    """Poll `predicate` until it returns a truthy value; raise with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing may not be up yet
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}; last error: {last_exc!r}")


@dataclass
class ManagedProcess:
    """A child process with its log file; `stop()` sends SIGTERM, then SIGKILL."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group at once (a crash, not a shutdown)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def base_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this one's, minus test-only settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({"DJANGO_SETTINGS_MODULE": "imhub.settings", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"})
    env.update(extra)
    return env


@dataclass
class Hub:
    """A running hub: the hub server (imhub.serve, IMHUB_SERVER picks it) on `port`, with its own database."""

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

    def manage(self, *args: str, check: bool = True, timeout: float = 120.0) -> str:
        """Run `manage.py <args>` against this hub's database; returns stdout."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        """Run Python code in `manage.py shell` against this hub's database; returns stdout."""
        return self.manage("shell", "-c", code)

    def start(self, *, timeout: float = 60.0) -> Hub:
        self.process = ManagedProcess(
            name=f"hub:{self.port}",
            args=hub_command(port=self.port, python=PYTHON, env=self.env, processes=self.processes),
            env=self.env,
            log_path=self.workdir / f"hub-{self.port}.log",
        ).start()
        try:
            wait_until(
                lambda: http_json("GET", f"{self.url}/healthz", timeout=2)[0] == 200,
                timeout=timeout,
                what=f"hub /healthz on {self.url}",
            )
        except TimeoutError:
            tail = self.process.log_tail()
            self.process.stop()
            raise RuntimeError(f"hub did not become healthy; log tail:\n{tail}") from None
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
    process = ManagedProcess(
        name=f"simulator:{port}",
        args=[
            PYTHON,
            "manage.py",
            "runsimulator",
            "douyin",
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--accounts",
            str(accounts),
            *extra_args,
        ],
        env=base_env(),
        log_path=workdir / f"simulator-{port}.log",
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_json("GET", f"{base_url}/__sim__/health", timeout=2)[0] == 200,
            timeout=timeout,
            what=f"simulator on {base_url}",
        )
    except TimeoutError:
        tail = process.log_tail()
        process.stop()
        raise RuntimeError(f"simulator did not start; log tail:\n{tail}") from None
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
    env = base_env(IMHUB_WORKER_TOKEN=token, **env_extra)
    if base_url:
        env["IMHUB_DOUYIN_BASE_URL"] = base_url
    return ManagedProcess(
        name=f"worker:{worker_id}",
        args=[
            PYTHON,
            "manage.py",
            "runworker_crawler",
            "--worker-id",
            worker_id,
            "--hub",
            hub.ws_url,
            "--data-dir",
            str(workdir / "worker-data"),
            "--status-interval",
            "2",
            *extra_args,
        ],
        env=env,
        log_path=workdir / f"worker-{worker_id}.log",
    ).start()

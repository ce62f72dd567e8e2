"""Launch imhub's processes (hub, simulator, worker) and talk to them: one way, shared by the demo
(`imhub/demo.py`) and the end-to-end tests (`tests/support/processes.py`).

The hub's server command comes from `imhub.serve.hub_command`, the one place it is built (`./run.sh hub`
runs `python -m imhub.serve`). Each child runs in its own process group with its output in a log file;
`stop()` ends the whole group (SIGTERM, then SIGKILL).
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imhub import serve

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"


class ProcessError(RuntimeError):
    """A process did not start, exited early, or a command it ran failed; the message says which."""


# ---- commands ----------------------------------------------------------------------------------------


def manage_command(*args: str) -> list[str]:
    return [PYTHON, "manage.py", *args]


def hub_command(
    *,
    port: int,
    host: str = HOST,
    env: dict[str, str] | None = None,
    processes: int = 1,
    app: str = serve.APPLICATION,
) -> list[str]:
    """The hub's server command (`imhub.serve.hub_command`: `IMHUB_SERVER` in ``env`` picks the server);
    ``app``: another ASGI application under the same server (the benchmarks' entry points)."""
    server = (env or {}).get("IMHUB_SERVER") or None
    return serve.hub_command(
        port=port, host=host, python=PYTHON, env=env, processes=processes, server=server, app=app
    )


def simulator_command(
    *, port: int, host: str = HOST, seed: int = 1, accounts: int = 3, extra: Sequence[str] = ()
) -> list[str]:
    """`manage.py runsimulator douyin` on `host:port`; `extra`: sizes, live rate, risk options."""
    return manage_command(
        "runsimulator",
        "douyin",
        "--host",
        host,
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--accounts",
        str(accounts),
        *extra,
    )


def worker_command(*, worker_id: str, hub_url: str, data_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    """`manage.py runworker_crawler` for `hub_url` (ws://host:port); the token goes in the environment."""
    return manage_command(
        "runworker_crawler", "--worker-id", worker_id, "--hub", hub_url, "--data-dir", str(data_dir), *extra
    )


def child_env(
    *, drop: Iterable[str] = (), defaults: dict[str, str] | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a child: this process's, minus pytest's variables and `drop`, with `defaults`
    where it has no value of its own, plus `extra`."""
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in dropped}
    for name, value in (defaults or {}).items():
        env.setdefault(name, value)
    env.update({"DJANGO_SETTINGS_MODULE": "imhub.settings", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300.0, check: bool = True) -> str:
    """Run `manage.py <args>` to completion; returns stdout (ProcessError on a non-zero exit)."""
    result = subprocess.run(
        manage_command(*args),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise ProcessError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ---- running processes -------------------------------------------------------------------------------


@dataclass
class ManagedProcess:
    """A child process in its own process group, logging to `log_path`."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0, *, group: bool = True) -> None:
        """SIGTERM the process group (or, ``group=False``, the main process only, as a service manager
        stopping a server would: it stops its own workers), SIGKILL the group after `timeout` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.proc.pid, signal.SIGTERM)
            else:
                os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the whole process group at once (a crash, not a shutdown)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def wait_until(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str = "condition",
    watch: Iterable[ManagedProcess] = (),
    retry: tuple[type[BaseException], ...] = (Exception,),
) -> Any:
    """Poll `predicate` until it returns a truthy value; returns it.

    An exception of a `retry` type counts as "not yet"; a process in `watch` that exits raises
    ProcessError with its log tail; time running out raises TimeoutError naming `what`.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        for process in watch:
            if not process.alive():
                raise ProcessError(
                    f"{process.name} exited (code {process.returncode}); "
                    f"log {process.log_path}:\n{process.log_tail(15)}"
                )
        try:
            value = predicate()
            if value:
                return value
        except retry as exc:
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}; last error: {last_exc!r}")


def process_start_ready(
    process: ManagedProcess, *, ready: Callable[[], Any], what: str, timeout: float
) -> ManagedProcess:
    """Start `process` and wait until `ready()`; on failure stop it and raise ProcessError with its log."""
    process.start()
    try:
        wait_until(ready, timeout=timeout, what=what, watch=[process])
    except (TimeoutError, ProcessError) as exc:
        tail = process.log_tail()
        process.stop()
        raise ProcessError(f"{process.name} did not start ({exc}); log tail:\n{tail}") from None
    return process


def hub_start(
    *,
    port: int,
    env: dict[str, str],
    log_path: Path,
    name: str = "hub",
    timeout: float = 60.0,
    processes: int = 1,
) -> ManagedProcess:
    """Start a hub (`hub_command`) on 127.0.0.1:`port` and wait until `/readyz` answers 200 (its store
    loaded, the database and channel layer answering)."""
    url = f"http://{HOST}:{port}/readyz"
    args = hub_command(port=port, env=env, processes=processes)
    return process_start_ready(
        ManagedProcess(name=name, args=args, env=env, log_path=log_path),
        ready=lambda: http_json("GET", url, timeout=2)[0] == 200,
        what=f"hub {url}",
        timeout=timeout,
    )


def simulator_start(
    *,
    port: int,
    env: dict[str, str],
    log_path: Path,
    name: str = "simulator",
    timeout: float = 30.0,
    **command: Any,
) -> ManagedProcess:
    """Start the Douyin simulator (`simulator_command(**command)`) and wait until it answers."""
    url = f"http://{HOST}:{port}/__sim__/health"
    return process_start_ready(
        ManagedProcess(name=name, args=simulator_command(port=port, **command), env=env, log_path=log_path),
        ready=lambda: http_json("GET", url, timeout=2)[0] == 200,
        what=f"simulator {url}",
        timeout=timeout,
    )


# ---- talking to them ---------------------------------------------------------------------------------


def free_port(host: str = HOST, *, preferred: int = 0) -> int:
    """`preferred` when it is free on `host` right now, else a free port the system picks."""
    if preferred:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with contextlib.suppress(OSError):
                sock.bind((host, preferred))
                return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def http_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One HTTP request with a JSON body; returns (status, decoded JSON or text). OSError when unreachable."""
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


class RequestError(ProcessError):
    """A JSON request to one of the processes got no answer, or an answer other than 2xx."""


def http_ok(
    method: str, url: str, *, body: Any = None, token: str | None = None, timeout: float = 10.0
) -> Any:
    """One JSON request (with a DRF token when given); the decoded body (None when empty), RequestError
    when nothing answered or the answer is not 2xx."""
    headers = {"Authorization": f"Token {token}"} if token else None
    try:
        status, payload = http_json(method, url, body=body, headers=headers, timeout=timeout)
    except OSError as exc:
        raise RequestError(f"{method} {url} failed: {exc}") from None
    if not 200 <= status < 300:
        detail = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        raise RequestError(f"{method} {url} -> HTTP {status}: {detail[:300]}")
    return payload if payload != "" else None

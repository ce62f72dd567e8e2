"""The README's "Running the pieces yourself", run as written: its two command blocks are read from
README.md and executed line by line (ports and the placeholders `<token>`, `<uid>`, `<username>`, `<key>`
filled in; `createsuperuser` made non-interactive), with the admin's "add account" and "log in" done
through the management API they use. The account must log in by the simulator's QR confirmation and
its items must reach the IM API.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from imhub.processes import ManagedProcess, http_json, wait_until
from tests.support.processes import ROOT, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SECTION = "## Running the pieces yourself"
LONG_RUNNING = ("./run.sh hub", "runsimulator", "runworker_crawler")


def readme_blocks() -> list[list[str]]:
    """The section's ```bash blocks, one command per entry (continuations joined, comments dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.find("\n## ", len(SECTION)) if "\n## " in section[len(SECTION) :] else None]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    out = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        out.append(
            [re.sub(r"\s+#[^'\"]*$", "", line).strip() for line in joined.splitlines() if line.strip()]
        )
    return out


class Steps:
    """Runs README commands with this test's ports, directories and placeholders."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.hub_port, self.sim_port = free_port(), free_port()
        self.values: dict[str, str] = {"<username>": "admin"}
        self.env = base_env(
            IMHUB_VAR_DIR=str(tmp / "var"),
            PORT=str(self.hub_port),
            DJANGO_SUPERUSER_PASSWORD="admin-pw-1234",
        )
        self.children: list[ManagedProcess] = []

    def _argv(self, command: str) -> tuple[list[str], dict[str, str]]:
        text = (
            command.replace("127.0.0.1:8000", f"127.0.0.1:{self.hub_port}")
            .replace("127.0.0.1:8100", f"127.0.0.1:{self.sim_port}")
            .replace("--port 8100", f"--port {self.sim_port}")
            .replace("var/worker-1", str(self.tmp / "worker-1"))
        )
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        assert "<" not in text, f"a placeholder is left in {text!r}"
        argv, env = shlex.split(text), dict(self.env)
        while argv and re.fullmatch(r"[A-Z_]+=.*", argv[0]):  # VAR=value prefixes
            name, _, value = argv.pop(0).partition("=")
            env[name] = value
        if argv[-1] == "createsuperuser":
            argv += ["--noinput", "--username", "admin", "--email", "admin@example.org"]
        return argv, env

    def run(self, command: str) -> str:
        argv, env = self._argv(command)
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 0, f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout

    def start(self, command: str, name: str) -> ManagedProcess:
        argv, env = self._argv(command)
        child = ManagedProcess(name=name, args=argv, env=env, log_path=self.tmp / f"{name}.log").start()
        self.children.append(child)
        return child

    def wait(self, predicate: Any, *, timeout: float, interval: float = 0.2, what: str) -> Any:
        """wait_until on the children (network errors are "not yet", a failed assertion fails at once);
        on a timeout the error carries each child's log tail."""
        try:
            return wait_until(
                predicate,
                timeout=timeout,
                interval=interval,
                what=what,
                watch=self.children,
                retry=(OSError,),
            )
        except TimeoutError as exc:
            tails = "\n".join(f"--- {c.name} ({c.log_path}):\n{c.log_tail(25)}" for c in self.children)
            raise TimeoutError(f"{exc}\n{tails}") from None

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop(timeout=15)


def test_the_readme_manual_path_works_as_written(tmp_path: Path) -> None:
    setup, usage = readme_blocks()
    steps = Steps(tmp_path)
    try:
        # the first block: bootstrap, the database, the users, then the three processes
        for command in setup:
            name = next((n for n in LONG_RUNNING if n in command), None)
            if name is None:
                out = steps.run(command)
                if "create_worker" in command:
                    steps.values["<token>"] = out.strip().splitlines()[-1]
                continue
            steps.start(command, name.split()[-1])
            if name == "./run.sh hub":
                wait_until(
                    lambda: (
                        http_json("GET", f"http://127.0.0.1:{steps.hub_port}/healthz", timeout=3)[0] == 200
                    ),
                    timeout=180,
                    what="the hub",
                    watch=steps.children,
                )
            if name == "runsimulator":
                wait_until(
                    lambda: (
                        http_json("GET", f"http://127.0.0.1:{steps.sim_port}/__sim__/health", timeout=3)[0]
                        == 200
                    ),
                    timeout=60,
                    what="the simulator",
                    watch=steps.children,
                )
        token_command = next(c for c in usage if "drf_create_token" in c)
        admin_key = re.search(r"Generated token (\w+)", steps.run(token_command))
        assert admin_key is not None
        steps.values["<key>"] = admin_key.group(1)
        hub = f"http://127.0.0.1:{steps.hub_port}"
        auth = {"Authorization": f"Token {steps.values['<key>']}"}

        def api(method: str, path: str, body: Any = None) -> Any:
            status, data = http_json(method, hub + path, body=body, headers=auth, timeout=15)
            assert status < 300, (path, status, data)
            return data

        # the admin's "add account" (the worker takes it and finds it not logged in), then "log in"
        account = api("POST", "/api/manage/accounts/", {"nickname": "手动", "platform": "douyin"})

        def found_not_logged_in() -> bool:
            # A new account starts as not_logged_in: wait for the worker's own report (it holds the
            # account and has looked), or "log in" may come before any worker holds it.
            row = api("GET", f"/api/manage/accounts/{account['id']}/")
            return bool(row["worker_id"] and row["last_status_at"] and row["login_status"] == "not_logged_in")

        steps.wait(
            found_not_logged_in, timeout=180, interval=1, what="the worker to find the account not logged in"
        )
        session = api("POST", f"/api/manage/accounts/{account['id']}/login/")
        session_path = f"/api/manage/login-sessions/{session['id']}/"

        def qr_shown() -> Any:
            row = api("GET", session_path)
            assert row["status"] not in ("failed", "timeout", "cancelled"), row
            return row.get("qr_image")

        steps.wait(qr_shown, timeout=120, what="the QR code in the admin")

        # the second block: the creators, the scan confirmed (again while a QR is still shown)
        creators = json.loads(steps.run(usage[0]))["accounts"]
        steps.values["<uid>"] = creators[0]["uid"]

        def logged_in() -> bool:
            if api("GET", session_path)["status"] == "success":
                return True
            steps.run(usage[1])
            time.sleep(3)
            return api("GET", session_path)["status"] == "success"

        steps.wait(logged_in, timeout=180, interval=0.5, what="the QR login")

        # and the account's items reach the IM API, read with the user's token
        accounts_command = next(c for c in usage if "/api/im/accounts/" in c)

        def items() -> dict[str, int]:
            rows = json.loads(steps.run(accounts_command))["results"]
            counts = next(row["counts"] for row in rows if row["id"] == account["id"])
            kinds = ("contents", "comments", "conversations", "messages")
            return counts if all(counts.get(kind) for kind in kinds) else {}

        counts = steps.wait(items, timeout=300, interval=3, what="items in the IM API")
        assert all(counts[kind] > 0 for kind in ("contents", "comments", "conversations", "messages"))
    finally:
        steps.stop()


def test_the_manual_path_migrates_before_creating_users_and_points_the_worker_at_the_simulator() -> None:
    setup, usage = readme_blocks()
    first = [next(i for i, c in enumerate(setup) if word in c) for word in ("migrate", "createsuperuser")]
    assert first[0] < first[1]
    worker = next(c for c in setup if "runworker_crawler" in c)
    assert "IMHUB_DOUYIN_BASE_URL=http://127.0.0.1:8100" in worker
    assert any("qr/confirm-newest" in c for c in usage) and any("drf_create_token" in c for c in usage)

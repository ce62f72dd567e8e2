"""The main job (`./run.sh demo`): the whole system on one machine, data visibly flowing.

Starts the Douyin simulator, the hub and one crawler worker as child processes (through
`imhub.processes`, as the end-to-end tests do), prepares demo users and accounts, logs every account in
through the QR flow (confirming each scan through the simulator's control API, as a phone would), then
prints a live status table until Ctrl-C, when every process it started is stopped.

`--duration S` is the check mode: it runs at most S seconds and exits as soon as data has flowed end
to end (every account logged in, every kind of item in the hub, then a DM injected into the simulator
reaching the IM API): 0 then, 1 when S runs out first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from imhub.processes import (
    ROOT,
    ManagedProcess,
    ProcessError,
    RequestError,
    child_env,
    free_port,
    http_ok,
    hub_start,
    manage,
    simulator_start,
    wait_until,
    worker_command,
)

KINDS = ("contents", "comments", "conversations", "messages")
# Simulated account sizes: `default` is the simulator's own (about 30 works, 600 comments and replies,
# 60 conversations, 900 messages); `small` keeps a bounded CI run short.
SIZES: dict[str, list[str]] = {
    "default": [],
    "small": ["--works", "6", "--comments", "60", "--conversations", "8", "--messages", "60"],
}


class DemoError(RuntimeError):
    """The demo could not reach a state it needs; the message says which and where to look."""


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: East Asian wide and full-width characters (Chinese) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def cell(text: str, width: int) -> str:
    """`text` cut to fit `width` terminal columns (leaving one for the gap) and padded to exactly `width`."""
    out, used = "", 0
    for char in text:
        columns = display_width(char)
        if used + columns > width - 1:
            break
        out, used = out + char, used + columns
    return out + " " * (width - used)


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.var_dir = Path(args.var_dir).resolve()
        self.log_dir = self.var_dir / "logs"
        self.children: list[ManagedProcess] = []
        self.host = "127.0.0.1"
        self.port = free_port(self.host, preferred=args.port)
        self.sim_port = free_port(self.host, preferred=args.sim_port)
        self.hub_url = f"http://{self.host}:{self.port}"
        self.sim_url = f"http://{self.host}:{self.sim_port}"
        self.setup: dict[str, Any] = {}
        # heartbeats every 5 s unless the environment says otherwise: the dashboard follows sooner
        self.env = child_env(IMHUB_VAR_DIR=str(self.var_dir), defaults={"IMHUB_HEARTBEAT_INTERVAL": "5"})

    # ---- helpers ---------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"[demo] {text}", flush=True)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def wait(self, what: str, predicate: Any, *, timeout: float, child: ManagedProcess | None = None) -> Any:
        """Poll until `predicate()` is truthy; DemoError when time runs out or any child exits."""
        try:
            return wait_until(
                predicate,
                timeout=timeout,
                interval=0.5,
                what=what,
                watch=self.children,
                retry=(DemoError, RequestError),
            )
        except TimeoutError as exc:
            hint = f"\n{child.name} log ({child.log_path}):\n{child.log_tail(15)}" if child else ""
            raise DemoError(f"{exc}{hint}") from None

    def admin_api(self, method: str, path: str, body: Any = None) -> Any:
        return http_ok(method, f"{self.hub_url}{path}", body=body, token=self.setup["admin"]["token"])

    def agent_api(self, method: str, path: str, body: Any = None) -> Any:
        return http_ok(method, f"{self.hub_url}{path}", body=body, token=self.setup["agent"]["token"])

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        return http_ok(method, f"{self.sim_url}/__sim__{path}", body=body)

    # ---- steps -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        if self.var_dir.exists() and not self.args.keep:
            shutil.rmtree(self.var_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.say(f"state and logs in {self.var_dir}")
        manage("migrate", "--noinput", "-v", "0", env=self.env)

    def start_simulator(self) -> list[dict[str, Any]]:
        child = simulator_start(
            port=self.sim_port,
            env=self.env,
            log_path=self.log_path("simulator"),
            timeout=60,
            host=self.host,
            seed=self.args.seed,
            accounts=self.args.accounts,
            extra=[
                "--live-rate",
                str(self.args.live_rate),
                "--surface",
                self.args.surface,
                *SIZES[self.args.size],
            ],
        )
        self.children.append(child)
        accounts = self.wait("the simulator", lambda: self.sim("GET", "/accounts"), timeout=60, child=child)
        creators = accounts["accounts"] if isinstance(accounts, dict) else accounts
        self.say(f"simulator (Douyin creator center stand-in) on {self.sim_url}: {len(creators)} creators")
        return creators

    def start_hub(self, creators: list[dict[str, Any]]) -> None:
        nicknames = ",".join(c.get("nickname", "").replace(",", " ") for c in creators)
        self.setup = json.loads(
            manage(
                "demo_setup",
                "--accounts",
                str(self.args.accounts),
                "--nicknames",
                nicknames,
                "--monitor-interval",
                str(self.args.interval),
                env=self.env,
            )
            .strip()
            .splitlines()[-1]
        )
        self.children.append(hub_start(port=self.port, env=self.env, log_path=self.log_path("hub")))
        self.say(f"hub on {self.hub_url}")

    def start_worker(self) -> None:
        env = dict(self.env)
        env["IMHUB_WORKER_TOKEN"] = self.setup["worker"]["token"]
        env["IMHUB_DOUYIN_BASE_URL"] = self.sim_url
        worker_id = self.setup["worker"]["worker_id"]
        args = worker_command(
            worker_id=worker_id,
            hub_url=f"ws://{self.host}:{self.port}",
            data_dir=self.var_dir / "worker",
            extra=["--headless"],
        )
        child = ManagedProcess(name="worker", args=args, env=env, log_path=self.log_path("worker")).start()
        self.children.append(child)

        def online() -> bool:
            workers = self.admin_api("GET", "/api/manage/workers/")
            rows = workers["results"] if isinstance(workers, dict) else workers
            return any(w["worker_id"] == worker_id and w["status"] == "online" for w in rows)

        self.wait("the worker to connect", online, timeout=90, child=child)
        self.say(f"worker {worker_id} connected (Chromium, one browser context per account)")

    def login_all(self, creators: list[dict[str, Any]]) -> None:
        for account, creator in zip(self.setup["accounts"], creators, strict=False):
            self.login(account, creator)

    def login(self, account: dict[str, Any], creator: dict[str, Any]) -> None:
        account_id = account["id"]
        session = self.admin_api("POST", f"/api/manage/accounts/{account_id}/login/")
        session_id = session["id"]
        path = f"/api/manage/login-sessions/{session_id}/"
        worker = next(c for c in self.children if c.name == "worker")

        def qr_ready() -> bool:
            state = self.admin_api("GET", path)
            if state["status"] in ("failed", "timeout"):
                raise DemoError(
                    f"login of account {account_id} ended {state['status']}: {state.get('message')}"
                )
            return state["status"] in ("qrcode_ready", "qrcode_refreshed") and bool(state.get("qr_image"))

        self.wait(f"the QR code of account {account_id}", qr_ready, timeout=90, child=worker)
        self.sim("POST", "/qr/confirm-newest", {"uid": creator["uid"]})

        def succeeded() -> bool:
            state = self.admin_api("GET", path)
            if state["status"] in ("failed", "timeout"):
                raise DemoError(
                    f"login of account {account_id} ended {state['status']}: {state.get('message')}"
                )
            return state["status"] == "success"

        self.wait(f"the login of account {account_id}", succeeded, timeout=90, child=worker)
        self.say(f"account {account_id} ({creator.get('nickname')}) logged in by QR scan")

    def snapshot(self) -> list[dict[str, Any]]:
        """Per-account status and item counts from the hub's stats endpoint (served from the DataStore)."""
        stats = self.admin_api("GET", "/api/datasync/stats/")
        return [{**row, "counts": row.get("store") or {}} for row in stats["accounts"]]

    def print_table(self, rows: list[dict[str, Any]]) -> None:
        now = time.strftime("%H:%M:%S")
        header = f"{'id':>3} {cell('account', 14)} {'login':<13} {'runner':<10} " + " ".join(
            f"{k[:8]:>8}" for k in KINDS
        )
        lines = [f"--- {now} ---", header + "  last sync  error"]
        for row in rows:
            counts = row["counts"]
            synced = row.get("last_sync_at")
            last_sync = f"{max(0, int(time.time() - synced / 1000))}s ago" if synced else "never"
            lines.append(
                f"{row['id']:>3} {cell(str(row.get('nickname', '')), 14)} {row.get('login_status', ''):<13} "
                f"{row.get('runner_status') or '-'!s:<10} "
                + " ".join(f"{counts.get(k, 0):>8}" for k in KINDS)
                + f"  {last_sync:<9}  {str(row.get('last_error') or '')[:60]}"
            )
        print("\n".join(lines), flush=True)

    def flow_problems(self, rows: list[dict[str, Any]]) -> list[str]:
        problems = []
        for row in rows:
            if row.get("login_status") != "logged_in":
                problems.append(f"account {row['id']} is {row.get('login_status')}")
            for kind in KINDS:
                if not row["counts"].get(kind):
                    problems.append(f"account {row['id']} has no {kind} in the hub")
        return problems

    def prove_live_dm(self, creator: dict[str, Any], account_id: int) -> None:
        text = f"demo live check {int(time.time())}"
        self.sim("POST", "/inject/message", {"uid": creator["uid"], "text": text})

        def arrived() -> bool:
            page = self.agent_api("GET", f"/api/im/unified-messages/?account_id={account_id}&types=messages")
            return any(item.get("record", {}).get("text") == text for item in page.get("results", []))

        started = time.monotonic()
        self.wait("an injected DM to reach the IM API", arrived, timeout=self.args.interval * 3 + 60)
        self.say(f"a DM injected into the simulator reached the IM API in {time.monotonic() - started:.1f}s")

    def banner(self) -> None:
        a, g = self.setup["admin"], self.setup["agent"]
        self.say("ready. Open:")
        print(
            f"  admin          {self.hub_url}/admin/   (user {a['username']} / {a['password']})\n"
            f"  dashboard      {self.hub_url}/admin/dashboard/\n"
            f"  API docs       {self.hub_url}/api/docs/\n"
            f"  inbox (agent)  {self.hub_url}/inbox/   (user {g['username']} / {g['password']})\n"
            f"  desk (agent)   {self.hub_url}/desk/    (the support queue: threads, assignment, canned replies)\n"
            f"  IM API         {self.hub_url}/api/im/unified-messages/?account_id={self.setup['accounts'][0]['id']}"
            f"   (header 'Authorization: Token {g['token']}')\n"
            f"  accounts       {self.hub_url}/api/im/accounts/\n"
            f"  live events    ws://{self.host}:{self.port}/ws/im/\n"
            f"  metrics        {self.hub_url}/metrics\n"
            f"  simulator      {self.sim_url}/__sim__/accounts   (ground truth)\n"
            f"  logs           {self.log_dir}/",
            flush=True,
        )

    def run(self) -> int:
        self.prepare()
        creators = self.start_simulator()
        self.start_hub(creators)
        self.start_worker()
        self.login_all(creators)
        self.banner()
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        rows: list[dict[str, Any]] = []
        while deadline is None or time.monotonic() < deadline:
            rows = self.snapshot()
            self.print_table(rows)
            if deadline is not None and not self.flow_problems(rows):
                break
            time.sleep(self.args.refresh)
            for child in self.children:
                if not child.alive():
                    raise DemoError(f"{child.name} exited; log {child.log_path}:\n{child.log_tail(15)}")
        if deadline is None:
            return 0
        problems = self.flow_problems(rows)
        if deadline is not None and time.monotonic() < deadline:
            # data for every kind arrived before the deadline: prove freshness with a live DM
            self.prove_live_dm(creators[0], self.setup["accounts"][0]["id"])
            rows = self.snapshot()
            self.print_table(rows)
            problems = self.flow_problems(rows)
        if problems:
            self.say("FAILED: data did not flow: " + "; ".join(problems))
            return 1
        self.say("OK: every account logged in, every kind of item reached the hub, live DM delivered")
        return 0

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop(timeout=15)
        if self.children:
            self.say("stopped " + ", ".join(c.name for c in reversed(self.children)))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
    from django.conf import settings

    parser = argparse.ArgumentParser(prog="./run.sh demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=3, help="demo accounts (default 3)")
    parser.add_argument("--port", type=int, default=settings.PORT, help="hub port")
    parser.add_argument("--sim-port", type=int, default=8100, help="simulator port")
    parser.add_argument(
        "--duration",
        type=float,
        default=0,
        help="check mode: run at most this many seconds; exit 0 as soon as data flowed end to end, 1 if "
        "the time runs out first (default: run until Ctrl-C)",
    )
    parser.add_argument("--interval", type=float, default=15.0, help="crawl interval per account, seconds")
    parser.add_argument(
        "--live-rate", type=float, default=6.0, help="new comments and DMs per minute per account"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", choices=sorted(SIZES), default="default", help="simulated account size")
    parser.add_argument(
        "--surface",
        default="default",
        help="simulator surface variants, comma-separated (crawler/simulators/douyin/README.md)",
    )
    parser.add_argument("--refresh", type=float, default=5.0, help="seconds between status tables")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "demo"))
    parser.add_argument("--keep", action="store_true", help="keep the previous demo database")
    args = parser.parse_args(argv)

    demo = Demo(args)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return demo.run()
    except KeyboardInterrupt:
        demo.say("Ctrl-C: stopping")
        return 0
    except (DemoError, ProcessError) as exc:
        demo.say(f"ERROR: {exc}")
        return 1
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())

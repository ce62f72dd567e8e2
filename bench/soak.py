"""Soak benchmark: the whole system under steady load for a bounded time; memory, lag and errors.

Runs hub process(es) (``python -m imhub.serve``), the Douyin simulator in live mode, real crawler
workers (``manage.py runworker_crawler``, Chromium) sharing the accounts, QR login of every account (as
``imhub/demo.py`` does: the scan is confirmed through the simulator's control API), then for
``duration`` seconds: live comments and DMs in the simulator, ``wrk`` on the IM API (a Lua script
rotating over read routes with a DRF token), and an agent on ``/ws/im/`` timing every ``new_item``.

Event lag = the agent's receive time minus the record's ``created_at`` (the time the simulator created
the item: DMs carry milliseconds, comments whole seconds, so a comment's lag reads up to 1 s high). It
includes the worker's polling interval, so it is the end-to-end freshness an agent sees, not the hub's
own apply time. Lost events: live items the simulator created during the window whose ``new_item``
never reached the agent (checked after a final sync).

The processes are started through ``imhub.processes`` (the launcher the demo and the e2e tests use),
each in its own process group, stopped with the group. Memory is read from ``/proc`` by
``crawler.stats``: RSS and PSS, a worker with all its descendants (its Chromium), its page renderers
apart (`memory_snapshot`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.api import wrk_parse
from crawler.stats import process_memory, process_tree
from imhub.processes import (
    HOST,
    ManagedProcess,
    ProcessError,
    RequestError,
    child_env,
    free_port,
    http_ok,
    hub_command,
    manage,
    simulator_command,
    wait_until,
    worker_command,
)

SIZES: dict[str, list[str]] = {
    "default": [],
    "small": ["--works", "6", "--comments", "60", "--conversations", "8", "--messages", "60"],
}
LIVE_KINDS = {"comment": "comments", "message": "messages"}
WRK_LUA = """
local token = "{token}"
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {{["Authorization"] = "Token " .. token}})
end
"""


class SoakError(RuntimeError):
    """The soak could not reach a state it needs; the message says which and where to look."""


# ---- processes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    """Memory of one reported row: RSS and PSS summed over its processes (bytes), and how many.

    PSS (proportional set size) splits each shared page among the processes sharing it. Chromium's
    processes share most of their pages, so a worker's RSS sum counts the same pages once per
    process and swings with the number of processes alive at the moment; PSS does not."""

    rss: int
    pss: int
    processes: int

    def as_json(self) -> dict[str, int]:
        return {"rss": self.rss, "pss": self.pss, "processes": self.processes}


def _renderer(pid: int) -> bool:
    """A Chromium page renderer: one or more per open page, gone when the page closes."""
    try:
        return b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _memory(pids: list[int]) -> Memory:
    rss = pss = 0
    for pid in pids:
        one_rss, one_pss = process_memory(pid)
        rss, pss = rss + one_rss, pss + one_pss
    return Memory(rss=rss, pss=pss, processes=len(pids))


def memory_snapshot(
    *, hub: ManagedProcess, workers: list[ManagedProcess], simulator: ManagedProcess
) -> dict[str, Memory]:
    """Memory per reported row: each hub process on its own (with several, the server's parent too);
    each worker as two rows, its lasting processes (Python, the Playwright driver, Chromium's browser,
    GPU and utility processes) and its page renderers, whose number follows the crawls in flight at
    the moment; the simulator."""
    out: dict[str, Memory] = {}
    assert hub.proc is not None
    hub_tree = sorted(process_tree(hub.proc.pid))
    for n, pid in enumerate(hub_tree):
        out[f"hub process {n} (pid {pid})" if len(hub_tree) > 1 else "hub"] = _memory([pid])
    for worker in workers:
        assert worker.proc is not None
        tree = process_tree(worker.proc.pid)
        renderers = {pid for pid in tree if _renderer(pid)}
        out[f"{worker.name} (Python, driver, Chromium without renderers)"] = _memory(
            [pid for pid in tree if pid not in renderers]
        )
        out[f"{worker.name} page renderers"] = _memory(sorted(renderers))
    assert simulator.proc is not None
    out["simulator"] = _memory(process_tree(simulator.proc.pid))
    return out


# ---- HTTP --------------------------------------------------------------------------------------------


def wait_for(
    what: str, predicate: Any, *, timeout: float, watch: list[ManagedProcess], interval: float = 0.5
) -> Any:
    """`imhub.processes.wait_until`, a SoakError or a failed request counting as "not yet"; SoakError
    on a timeout or a child that exited (with its log tail)."""
    try:
        return wait_until(
            predicate,
            timeout=timeout,
            interval=interval,
            what=what,
            watch=watch,
            retry=(SoakError, RequestError),
        )
    except (TimeoutError, ProcessError) as exc:
        raise SoakError(str(exc)) from None


# ---- the agent on /ws/im/ ----------------------------------------------------------------------------


@dataclass
class Agent:
    """Receives ``/ws/im/`` events in a thread; keeps (kind, id, lag ms) of each live ``new_item``."""

    url: str
    token: str
    samples: list[tuple[str, str, float]] = field(default_factory=list)
    other_events: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Agent:
        from websockets.sync.client import connect

        self._ws = connect(
            self.url, additional_headers={"Authorization": f"Token {self.token}"}, max_size=None
        )
        hello = json.loads(self._ws.recv(timeout=15))
        if hello.get("type") != "ready":
            raise SoakError(f"/ws/im/ did not say ready: {hello}")
        self._thread = threading.Thread(target=self._run, name="soak-agent", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self._ws.recv(timeout=1.0)
            except TimeoutError:
                continue
            except Exception as exc:  # the socket closed under us: a counted error, not a silent one
                if not self._stop.is_set():
                    self.errors.append(f"agent socket: {exc!r}")
                return
            now_ms = time.time() * 1000
            event = json.loads(raw)
            data = event.get("data") or {}
            kind = data.get("kind")
            record = data.get("record") or {}
            if event.get("type") == "new_item" and kind in LIVE_KINDS and record.get("created_at"):
                record_id = record.get("comment_id") or record.get("message_id") or ""
                self.samples.append((kind, str(record_id), now_ms - float(record["created_at"])))
            elif event.get("type") == "resync_required":
                self.errors.append("agent got resync_required (events lost from the buffer)")
            else:
                self.other_events += 1

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            self._ws.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# ---- the run -----------------------------------------------------------------------------------------


@dataclass
class SoakConfig:
    duration: float = 600.0
    accounts: int = 20
    workers: int = 2
    hub_processes: int = 1
    database_url: str = ""
    redis_url: str = ""
    live_rate: float = 6.0
    interval: float = 15.0
    connections: int = 4
    size: str = "small"
    server: str = "uvicorn"
    seed: int = 7
    work_dir: str = ""
    memory_interval: float = 30.0  # s between memory samples in the window


@dataclass
class SoakResult:
    config: SoakConfig
    memory_start: dict[str, Memory]
    memory_end: dict[str, Memory]
    memory_samples: list[dict[str, Memory]]  # start, every memory_interval in the window, end
    items_start: int
    items_end: int
    live_items_created: int
    lag_all_ms: list[float]
    lag_messages_ms: list[float]
    errors: dict[str, int]
    error_details: list[str]
    wrk: dict[str, Any]
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    store_items_end: int

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())


class Soak:
    """One bounded soak run; ``run()`` returns the figures, ``stop()`` ends every child."""

    def __init__(self, config: SoakConfig, *, log: Any = print) -> None:
        self.config = config
        self.say = log
        self.dir = Path(config.work_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.children: list[ManagedProcess] = []
        self.port = free_port()
        self.sim_port = free_port()
        self.hub_url = f"http://{HOST}:{self.port}"
        self.sim_url = f"http://{HOST}:{self.sim_port}"
        env = child_env(
            drop=("DATABASE_URL", "REDIS_URL"),
            IMHUB_VAR_DIR=str(self.dir / "var"),
            IMHUB_HEARTBEAT_INTERVAL="5",
            IMHUB_SERVER=config.server,
            LOG_LEVEL="WARNING",
        )
        if config.database_url:
            env["DATABASE_URL"] = config.database_url
        if config.redis_url:
            env["REDIS_URL"] = config.redis_url
        self.env = env

    def _child(self, name: str, args: list[str], env: dict[str, str] | None = None) -> ManagedProcess:
        child = ManagedProcess(name=name, args=args, env=env or self.env, log_path=self.dir / f"{name}.log")
        self.children.append(child.start())
        return child

    def _manage(self, *args: str) -> str:
        try:
            return manage(*args, env=self.env, timeout=300)
        except ProcessError as exc:
            raise SoakError(str(exc)[-4000:]) from None

    def _sim(self, method: str, path: str, body: Any = None) -> Any:
        return http_ok(method, f"{self.sim_url}/__sim__{path}", body=body, timeout=15)

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        return http_ok(
            method, f"{self.hub_url}{path}", body=body, token=self.setup["admin"]["token"], timeout=15
        )

    # ---- steps -----------------------------------------------------------------------------------

    def start(self) -> None:
        c = self.config
        (self.dir / "var").mkdir(parents=True, exist_ok=True)
        self._manage("migrate", "--noinput", "-v", "0")
        sim_args = simulator_command(
            port=self.sim_port, seed=c.seed, accounts=c.accounts, extra=SIZES[c.size]
        )
        self.simulator = self._child("simulator", sim_args)
        self.creators = wait_for(
            "the simulator",
            lambda: self._sim("GET", "/accounts")["accounts"],
            timeout=60,
            watch=self.children,
        )
        nicknames = ",".join(str(x.get("nickname", "")).replace(",", " ") for x in self.creators)
        capacity = -(-c.accounts // c.workers)
        worker_ids = [f"soak-worker-{n + 1}" for n in range(c.workers)]
        tokens = {}
        for worker_id in worker_ids:
            out = self._manage(
                "demo_setup", "--accounts", str(c.accounts), "--nicknames", nicknames, "--worker-id", worker_id,
                "--capacity", str(capacity), "--monitor-interval", str(c.interval),
            )  # fmt: skip
            self.setup = json.loads(out.strip().splitlines()[-1])
            tokens[worker_id] = self.setup["worker"]["token"]
        self.hub = self._child("hub", hub_command(port=self.port, env=self.env, processes=c.hub_processes))
        wait_for(
            "the hub",
            lambda: http_ok("GET", f"{self.hub_url}/healthz", timeout=10),
            timeout=300,
            watch=self.children,
        )
        self.workers = []
        for worker_id in worker_ids:
            env = {**self.env, "IMHUB_WORKER_TOKEN": tokens[worker_id], "IMHUB_DOUYIN_BASE_URL": self.sim_url}
            args = worker_command(
                worker_id=worker_id,
                hub_url=f"ws://{HOST}:{self.port}",
                data_dir=self.dir / worker_id,
                extra=["--headless"],
            )
            self.workers.append(self._child(worker_id, args, env))

        def online() -> bool:
            rows = self._admin("GET", "/api/manage/workers/")
            rows = rows["results"] if isinstance(rows, dict) else rows
            return sum(1 for w in rows if w["worker_id"] in tokens and w["status"] == "online") == c.workers

        wait_for("the workers to connect", online, timeout=120, watch=self.children)
        self.say(f"hub {self.hub_url} ({c.hub_processes} process(es)), simulator, {c.workers} worker(s) up")

    def _runners_settled(self) -> bool:
        """Every account's runner has tried its session and stopped at the login page. Each of those
        tries opens a login page (a new QR ticket), so a QR confirmed before they settle may be theirs."""
        rows = self._stats()["accounts"]
        return all(row["login_status"] == "not_logged_in" for row in rows)

    def login_all(self) -> None:
        wait_for(
            "every runner to stop at the login page", self._runners_settled, timeout=300, watch=self.children
        )
        for account, creator in zip(self.setup["accounts"], self.creators, strict=False):
            session = self._admin("POST", f"/api/manage/accounts/{account['id']}/login/")
            path = f"/api/manage/login-sessions/{session['id']}/"

            def state(*wanted: str, path: str = path, account_id: int = account["id"]) -> bool:
                got = self._admin("GET", path)
                if got["status"] in ("failed", "timeout"):
                    raise SoakError(
                        f"login of account {account_id} ended {got['status']}: {got.get('message')}"
                    )
                return got["status"] in wanted and (got["status"] == "success" or bool(got.get("qr_image")))

            wait_for(
                "a QR code",
                lambda: state("qrcode_ready", "qrcode_refreshed"),
                timeout=120,
                watch=self.children,
            )
            self._sim("POST", "/qr/confirm-newest", {"uid": creator["uid"]})

            def logged_in(uid: str = creator["uid"], check: Any = state) -> bool:
                if check("success"):
                    return True
                # the page showed a new QR after the scan (slow machine): scan the newest one again,
                # as a person with the phone would
                self._sim("POST", "/qr/confirm-newest", {"uid": uid})
                return False

            wait_for("a login", logged_in, timeout=180, watch=self.children, interval=3)
        self.say(f"{len(self.setup['accounts'])} accounts logged in by QR scan")

    def _truth(self) -> dict[str, dict[str, Any]]:
        return {x["uid"]: self._sim("GET", f"/accounts/{x['uid']}/truth") for x in self.creators}

    def _stats(self) -> dict[str, Any]:
        return dict(self._admin("GET", "/api/datasync/stats/"))

    def _synced(self) -> bool:
        """Every account's hub counts at least the simulator's (comments, conversations, messages)."""
        truth = self._truth()
        rows = {r["id"]: r for r in self._stats()["accounts"]}
        for account, creator in zip(self.setup["accounts"], self.creators, strict=False):
            have = rows[account["id"]].get("store") or {}
            want = truth[creator["uid"]]["counts"]
            if any(have.get(k, 0) < want[k] for k in ("contents", "comments", "conversations", "messages")):
                return False
        return True

    def _process_counters(self, samples: int = 40) -> dict[int, dict[str, Any]]:
        """Each hub process's counters: the stats endpoint answers from whichever process took the
        connection, so ask until every process has answered (or ``samples`` times)."""
        seen: dict[int, dict[str, Any]] = {}
        for _ in range(samples):
            process = self._stats()["process"]
            seen[int(process["pid"])] = process
            if len(seen) >= self.config.hub_processes:
                break
        return seen

    def run(self) -> SoakResult:
        c = self.config
        self.start()
        self.login_all()
        wait_for("the first full sync", self._synced, timeout=600, watch=self.children, interval=3)
        self.say("first full sync done")
        truth_start = self._truth()
        items_start = int(self._stats()["database"]["items_applied"])
        memory_start = memory_snapshot(hub=self.hub, workers=self.workers, simulator=self.simulator)
        load_start = os.getloadavg()
        agent = Agent(url=f"ws://{HOST}:{self.port}/ws/im/", token=self.setup["agent"]["token"]).start()
        self._sim("POST", "/live", {"rate": c.live_rate})
        wrk = self._wrk_start()
        self.say(f"soaking for {c.duration:g}s (live {c.live_rate:g}/min/account, wrk -c {c.connections})")
        samples = [memory_start]
        ends = time.monotonic() + c.duration
        next_sample = time.monotonic() + c.memory_interval
        while time.monotonic() < ends:
            time.sleep(min(5.0, max(0.0, ends - time.monotonic())))
            for child in self.children:
                if not child.alive():
                    raise SoakError(
                        f"{child.name} exited during the soak; log {child.log_path}:\n{child.log_tail(20)}"
                    )
            if time.monotonic() >= next_sample and time.monotonic() < ends:
                samples.append(memory_snapshot(hub=self.hub, workers=self.workers, simulator=self.simulator))
                next_sample += c.memory_interval
        wrk_out, _ = wrk.communicate(timeout=120)
        memory_end = memory_snapshot(hub=self.hub, workers=self.workers, simulator=self.simulator)
        samples.append(memory_end)
        load_end = os.getloadavg()
        self._sim("POST", "/live", {"rate": 0})
        with contextlib.suppress(SoakError):  # not synced in time shows as lost events below
            wait_for(
                "the final sync", self._synced, timeout=c.interval * 4 + 120, watch=self.children, interval=3
            )
        time.sleep(2)  # the last fan-out reaches the agent
        agent.stop()
        truth_end = self._truth()
        stats = self._stats()
        return self._result(
            agent=agent, wrk_out=wrk_out, stats=stats, truth_start=truth_start, truth_end=truth_end,
            items_start=items_start, memory_start=memory_start, memory_end=memory_end, memory_samples=samples, load_start=load_start, load_end=load_end,
        )  # fmt: skip

    def _wrk_start(self) -> subprocess.Popen[str]:
        ids = [a["id"] for a in self.setup["accounts"]]
        paths = ["/api/im/accounts/"]
        for account_id in ids[:5]:
            paths += [
                f"/api/im/unified-messages/?account_id={account_id}",
                f"/api/im/conversations/?account_id={account_id}",
                f"/api/im/contents/?account_id={account_id}",
                f"/api/im/unified-messages/stats/?account_id={account_id}",
            ]
        lua = self.dir / "soak.lua"
        lua.write_text(
            WRK_LUA.format(token=self.setup["agent"]["token"], paths=", ".join(json.dumps(p) for p in paths))
        )
        lua.chmod(0o600)
        duration = max(1, int(self.config.duration))
        return subprocess.Popen(
            [
                "wrk", "-t", "1", "-c", str(self.config.connections), "-d", f"{duration}s", "--latency",
                "--timeout", "4s", "-s", str(lua), self.hub_url,
            ],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def _result(self, **got: Any) -> SoakResult:
        c, agent, stats = self.config, got["agent"], got["stats"]
        errors: dict[str, int] = {}
        details: list[str] = list(agent.errors)
        wrk = wrk_parse(got["wrk_out"])
        errors["wrk non-2xx + socket errors"] = int(wrk["errors"])
        counters = self._process_counters()
        errors["sync frames rejected"] = sum(int(p["frames_rejected"]) for p in counters.values())
        for pid, p in counters.items():
            if p["frames_rejected"]:
                details.append(f"hub pid {pid} rejected frames: {p['frames_rejected_by_code']}")
        bad_accounts = [
            a for a in stats["accounts"] if a["login_status"] != "logged_in" or a.get("last_error")
        ]
        errors["accounts in error"] = len(bad_accounts)
        details += [
            f"account {a['id']}: {a['login_status']} {a.get('last_error') or ''}" for a in bad_accounts
        ]
        online = {w["worker_id"] for w in stats["workers"]["online"]}
        errors["workers not online"] = sum(1 for w in self.workers if w.name not in online)
        worker_errors = 0
        for worker in self.workers:
            lines = [
                line for line in worker.log_path.read_text(errors="replace").splitlines()
                if re.search(r"\bERROR\b|Traceback", line) and not line.startswith("[pid=")
            ]  # fmt: skip
            worker_errors += len(lines)
            details += [f"{worker.name}: {line[:200]}" for line in lines[:5]]
        errors["worker log errors"] = worker_errors
        errors["agent socket errors"] = len(agent.errors)
        live: set[tuple[str, str]] = set()
        for uid, end in got["truth_end"].items():
            start = got["truth_start"][uid]
            live |= {("comment", x["cid"]) for x in end["comments"]} - {
                ("comment", x["cid"]) for x in start["comments"]
            }
            live |= {("message", x["server_id"]) for x in end["messages"] if not x["is_from_me"]} - {
                ("message", x["server_id"]) for x in start["messages"]
            }
        received = {(kind, record_id) for kind, record_id, _ in agent.samples}
        lost = live - received
        errors["live items without an event (lost)"] = len(lost)
        if lost:
            details.append(f"lost events, e.g. {sorted(lost)[:5]}")
        window = [s for s in agent.samples if (s[0], s[1]) in live]
        totals = (stats["store"].get("totals") or {}) if stats["store"].get("ready") else {}
        return SoakResult(
            config=c,
            memory_start=got["memory_start"],
            memory_end=got["memory_end"],
            memory_samples=got["memory_samples"],
            items_start=got["items_start"],
            items_end=int(stats["database"]["items_applied"]),
            live_items_created=len(live),
            lag_all_ms=[s[2] for s in window],
            lag_messages_ms=[s[2] for s in window if s[0] == "message"],
            errors=errors,
            error_details=details,
            wrk=wrk,
            load_start=got["load_start"],
            load_end=got["load_end"],
            store_items_end=int(sum(v for v in totals.values() if isinstance(v, int))),
        )

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()


def soak_run(config: SoakConfig, *, log: Any = print) -> SoakResult:
    """Run one soak; every child is stopped at the end, whatever happened."""
    soak = Soak(config, log=log)
    try:
        return soak.run()
    finally:
        soak.stop()


def random_redis_db(url: str) -> str:
    """``url`` with a random logical database (1..15), so a run never meets another's keys."""
    return re.sub(r"(/\d+)?$", f"/{random.randint(1, 15)}", url.rstrip("/"), count=1)


# ---- report ------------------------------------------------------------------------------------------


def _mb(value: int) -> str:
    return f"{value / 1e6:.0f}"


def memory_window(samples: list[dict[str, Memory]]) -> dict[str, dict[str, int]]:
    """PSS of each row over the samples: min, max, and the medians of the first and the last three
    (a trend shows as last > first beyond the min-max swing of one row's samples)."""
    out: dict[str, dict[str, int]] = {}
    for name in samples[0] if samples else {}:
        series = [s[name].pss for s in samples if name in s]
        out[name] = {
            "min": min(series),
            "first": int(statistics.median(series[:3])),
            "last": int(statistics.median(series[-3:])),
            "max": max(series),
        }
    return out


def soak_summary(result: SoakResult) -> dict[str, Any]:
    """The figures of one run as JSON-ready data (what the smoke test checks)."""
    r = result
    return {
        "items_applied": r.items_end - r.items_start,
        "live_items_created": r.live_items_created,
        "store_items_end": r.store_items_end,
        "lag_samples": len(r.lag_all_ms),
        "lag_ms": {q: percentile(r.lag_all_ms, q) for q in (50, 99, 100)} if r.lag_all_ms else {},
        "errors": r.errors,
        "wrk": {"rps": r.wrk["rps"], "requests": r.wrk["requests"]},
        "memory_start": {name: m.as_json() for name, m in r.memory_start.items()},
        "memory_end": {name: m.as_json() for name, m in r.memory_end.items()},
        "memory_window": memory_window(r.memory_samples),
        "memory_samples": len(r.memory_samples),
        "load_start": r.load_start,
        "load_end": r.load_end,
    }


def soak_markdown(result: SoakResult, *, command: str, bytes_per_item: float | None) -> str:
    """The table of one run (for docs/benchmarks.md's Soak section)."""
    r, c = result, result.config
    lines = [
        f"Command: `{command}`",
        "",
        f"Set-up: {c.hub_processes} hub process(es) ({c.server}), database "
        f"{'PostgreSQL' if c.database_url.startswith('postgres') else 'SQLite'}, "
        f"{'Redis channel layer' if c.redis_url else 'in-memory channel layer'}; {c.accounts} accounts "
        f"(simulator size {c.size}), {c.workers} worker(s), live {c.live_rate:g} items/min/account, "
        f"monitor interval {c.interval:g} s, wrk -c {c.connections}, {c.duration:g} s.",
        f"Machine load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in r.load_start)}, at end "
        f"{'/'.join(f'{x:.1f}' for x in r.load_end)} ({os.cpu_count()} cores, shared).",
        "",
        "| process | processes at start / end | RSS at start / end (MB) | PSS at start (MB) | PSS at end (MB) | PSS growth (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for name, start in r.memory_start.items():
        end = r.memory_end.get(name, Memory(rss=0, pss=0, processes=0))
        lines.append(
            f"| {name} | {start.processes} / {end.processes} | {_mb(start.rss)} / {_mb(end.rss)} | "
            f"{_mb(start.pss)} | {_mb(end.pss)} | {(end.pss - start.pss) / 1e6:+.1f} |"
        )
    lines += [
        "",
        "RSS sums count each shared page once per process; PSS splits it among its sharers, so a sum of "
        "PSS is the real footprint. A worker's page renderers come and go with its crawls (a page is "
        "opened per task and closed after it): their row is what was open at that moment.",
    ]
    window = memory_window(r.memory_samples)
    lines += [
        "",
        f"PSS over the run ({len(r.memory_samples)} samples: start, every {c.memory_interval:g} s, end), MB; "
        '"first" and "last" are the medians of the first and the last three samples:',
        "",
        "| process | min | first | last | max |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {_mb(w['min'])} | {_mb(w['first'])} | {_mb(w['last'])} | {_mb(w['max'])} |"
            for name, w in window.items()
        ),
    ]
    lag, dm = r.lag_all_ms, r.lag_messages_ms
    lines += [
        "",
        "| figure | value |",
        "|---|---|",
        f"| items applied during the soak (new and updated records, database items_applied) | "
        f"{r.items_end - r.items_start:,} |",
        f"| live items the simulator created | {r.live_items_created:,} |",
        f"| items in the hub's store at the end | {r.store_items_end:,} |",
        f"| event lag, all live items (n={len(lag)}) p50 / p99 / max | "
        f"{percentile(lag, 50) / 1000:.1f} / {percentile(lag, 99) / 1000:.1f} / {max(lag, default=float('nan')) / 1000:.1f} s |",
        f"| event lag, DMs only (n={len(dm)}) p50 / p99 / max | "
        f"{percentile(dm, 50) / 1000:.1f} / {percentile(dm, 99) / 1000:.1f} / {max(dm, default=float('nan')) / 1000:.1f} s |",
        f"| wrk req/s (p50 / p99 latency) | {r.wrk['rps']:,.0f} ({r.wrk['p50_ms']:.1f} / {r.wrk['p99_ms']:.1f} ms) |",
        *(f"| errors: {name} | {value} |" for name, value in r.errors.items()),
    ]
    if bytes_per_item:
        hub_growth = sum(m.rss for k, m in r.memory_end.items() if k.startswith("hub")) - sum(
            m.rss for k, m in r.memory_start.items() if k.startswith("hub")
        )
        new_items = r.items_end - r.items_start
        per_process = bytes_per_item * new_items / 1e6
        lines += [
            "",
            f"Hub RSS growth {hub_growth / 1e6:+.1f} MB in all; the new items explain about {per_process:.1f} MB "
            f"per hub process ({new_items:,} items x {bytes_per_item:.0f} bytes/item, the store's figure).",
        ]
    return "\n".join(lines) + "\n"

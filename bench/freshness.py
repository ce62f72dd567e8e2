"""Freshness: from the simulator receiving a DM (or comment) to the agent's `/ws/im/` event.

    .venv/bin/python -m bench freshness --accounts 20            # listener and polling, same run
    .venv/bin/python -m bench freshness --accounts 100 --modes listen --dms 2 --comments 0

For each mode (`listen`: the worker's push listener, `poll`: `--listen-pages 0`, today's polling path)
it starts a simulator, a hub and one worker with N logged-in accounts (crawl interval `--interval`,
the product default 60 s; a listening account crawls every `--listen-interval` s, the product's
IMHUB_LISTEN_CRAWL_INTERVAL 600 s), waits for the first sync, then measures:
- the worker's steady-state CPU (cores, over `--idle` seconds with nothing injected) and its PSS per
  account (worker + Chromium, /proc smaps_rollup);
- latency: `--dms` DMs and `--comments` comments per account injected at random moments over
  `--window` seconds; each latency runs from just before the simulator's control call to the
  `new_item` event on an agent socket (p50, p90, p99, max; misses counted).
Figures are printed; docs/benchmarks.md "Freshness" keeps them. The ratio poll/listen is the gain.
"""

from __future__ import annotations

import functools
import json
import random
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from crawler.stats import _tree as process_tree
from crawler.stats import pss_tree_bytes
from tests.crawler.support import Stack, counts_match, crawler_stack
from tests.support.processes import start_worker, wait_until

SIZES = ("--works", "6", "--comments", "60", "--conversations", "6", "--messages", "40")


def cpu_seconds(pid: int) -> float:
    """CPU time of `pid` and its descendants (s): utime + stime, plus cutime + cstime for the children
    already reaped (Chromium starts and ends renderers), so the sum only grows."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / 100.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Arrivals:
    """Reads the agent socket in a thread: (kind, id) -> arrival time."""

    def __init__(self, stack: Stack) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        self.stop = threading.Event()
        self.socket = connect(
            f"{stack.hub.ws_url}/ws/im/",
            additional_headers={"Authorization": f"Token {stack.api_token}"},
            open_timeout=10,
            max_size=None,
        )
        assert json.loads(self.socket.recv(timeout=15))["type"] == "ready"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stop.is_set():
            try:
                event = json.loads(self.socket.recv(timeout=0.5))
            except TimeoutError:
                continue
            except Exception:
                return
            if event.get("type") != "new_item":
                continue
            at = time.time()
            record = event["data"]["record"]
            key = (event["data"]["kind"], str(record.get("message_id") or record.get("comment_id") or ""))
            self.seen.setdefault(key, at)

    def close(self) -> None:
        self.stop.set()
        self.socket.close()
        self.thread.join(timeout=5)


def run_mode(
    workdir: Path,
    *,
    mode: str,
    accounts: int,
    dms: int,
    comments: int,
    window: float,
    idle: float,
    interval: float,
    timeout: float,
    listen_interval: float = 600.0,
) -> dict[str, Any]:
    extra = (
        ["--listen-pages", "0"]
        if mode == "poll"
        else ["--listen-pages", str(max(1, accounts)), "--listen-crawl-interval", str(listen_interval)]
    )
    extra += ["--max-accounts", str(accounts), "--max-concurrent-crawls", "4"]
    with crawler_stack(
        workdir, kinds=["session"] * accounts, sim_args=SIZES, interval=interval, start=False
    ) as stack:
        started = time.monotonic()
        stack.worker = start_worker(
            stack.workdir,
            hub=stack.hub,
            token=stack.worker_token,
            base_url=stack.sim.base_url,
            extra_args=extra,
        )
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            wait_until(
                functools.partial(counts_match, stack, account_id, uid),
                timeout=1800,
                interval=2.0,
                what="sync",
            )
        synced = time.monotonic() - started
        if mode == "listen":

            def all_listening() -> bool:
                _status, data = stack.api("GET", "/api/manage/accounts/?limit=1000")
                rows = data["results"] if isinstance(data, dict) else data
                return sum(1 for a in rows if a["listener_status"] == "listening") == accounts

            wait_until(all_listening, timeout=600, interval=2.0, what="every account listening")
        pid = stack.worker.proc.pid  # type: ignore[union-attr]
        before, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(idle)
        idle_cores = (cpu_seconds(pid) - before) / (time.monotonic() - t0)
        pss = pss_tree_bytes(pid)
        arrivals = Arrivals(stack)
        rng = random.Random(7)
        plan = [(rng.uniform(0, window), "message", i) for i in range(accounts) for _ in range(dms)]
        plan += [(rng.uniform(0, window), "comment", i) for i in range(accounts) for _ in range(comments)]
        plan.sort()
        sent: dict[tuple[str, str], float] = {}
        begin = time.monotonic()
        for offset, kind, index in plan:
            delay = begin + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            uid = stack.uids[index]
            at = time.time()
            if kind == "message":
                made = stack.sim.control("POST", "inject/message", {"uid": uid, "text": f"fresh {index}"})
                sent[("message", made["server_id"])] = at
            else:
                made = stack.sim.control("POST", "inject/comment", {"uid": uid, "text": f"fresh {index}"})
                sent[("comment", made["cid"])] = at
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not set(sent) <= set(arrivals.seen):
            time.sleep(0.5)
        arrivals.close()
        result: dict[str, Any] = {
            "mode": mode,
            "accounts": accounts,
            "first_sync_s": round(synced, 1),
            "idle_cpu_cores": round(idle_cores, 3),
            "pss_mb_per_account": round(pss / 2**20 / accounts, 1),
        }
        for kind in ("message", "comment"):
            lags = [arrivals.seen[k] - t for k, t in sent.items() if k[0] == kind and k in arrivals.seen]
            wanted = sum(1 for k in sent if k[0] == kind)
            if not wanted:
                continue
            result[kind] = {
                "n": wanted,
                "missed": wanted - len(lags),
                "p50": round(percentile(lags, 0.5), 3),
                "p90": round(percentile(lags, 0.9), 3),
                "p99": round(percentile(lags, 0.99), 3),
                "max": round(max(lags), 3) if lags else None,
                "mean": round(statistics.fmean(lags), 3) if lags else None,
            }
        return result

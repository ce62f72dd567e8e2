"""Worker benchmarks: first full crawl time of one account, and worker RSS by account count.

    .venv/bin/python -m bench crawler crawl            # 50 works, 1,000 comments, 100 conversations
    .venv/bin/python -m bench crawler rss 5 10 20      # RSS (worker + Chromium) per account count

Real processes (simulator, hub, worker with Chromium) set up as in the e2e tests (`tests.crawler.support`);
figures are printed.
"""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path

from crawler.stats import pss_tree_bytes, rss_tree_bytes
from tests.crawler.support import counts_match, crawler_stack
from tests.support.processes import wait_until


def bench_crawl(workdir: Path, *, works: int, comments: int, conversations: int, messages: int) -> None:
    sizes: tuple[str, ...] = (
        "--works",
        str(works),
        "--comments",
        str(comments),
        "--conversations",
        str(conversations),
    )
    sizes += ("--messages", str(messages))
    with crawler_stack(workdir, kinds=["session"], sim_args=sizes, interval=600, start=False) as stack:
        truth = stack.sim.control("GET", f"accounts/{stack.uids[0]}/truth")["counts"]
        started = time.monotonic()
        stack.worker_start()
        wait_until(
            lambda: counts_match(stack, stack.account_ids[0], stack.uids[0]),
            timeout=600,
            interval=0.5,
            what="the first crawl to reach the hub",
        )
        elapsed = time.monotonic() - started
        log = stack.worker.log_path.read_text()  # type: ignore[union-attr]
        crawl = re.search(r"crawl 1 done in ([0-9.]+)s: (\d+) new", log)
        print(f"truth counts: {truth}")
        print(f"worker start -> IM API matches the simulator: {elapsed:.1f} s")
        if crawl:
            print(f"crawl itself (runner log): {crawl.group(1)} s, {crawl.group(2)} records")


def bench_rss(workdir: Path, *, accounts: int, settle: float) -> None:
    sizes = ("--works", "5", "--comments", "50", "--conversations", "5", "--messages", "30")
    with crawler_stack(workdir, kinds=["session"] * accounts, sim_args=sizes, interval=20) as stack:
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            wait_until(
                functools.partial(counts_match, stack, account_id, uid),
                timeout=900,
                interval=1.0,
                what="sync",
            )
        pid = stack.worker.proc.pid  # type: ignore[union-attr]
        peak_rss, peak_pss, end = 0, 0, time.monotonic() + settle
        while time.monotonic() < end:
            peak_rss = max(peak_rss, rss_tree_bytes(pid))
            peak_pss = max(peak_pss, pss_tree_bytes(pid))
            time.sleep(1.0)
        print(
            f"{accounts} accounts: worker + Chromium peak over {settle:.0f}s of steady crawling: "
            f"RSS sum {peak_rss / 2**20:.0f} MiB, PSS sum {peak_pss / 2**20:.0f} MiB",
            flush=True,
        )

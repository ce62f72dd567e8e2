"""`python -m bench api`: IM API req/s, ratio to a raw-ASGI ceiling, p50/p99/p99.9 and errors per route (wrk)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bench.api import (
    ROUTES,
    bench_im_markdown,
    bench_im_run,
    bench_im_write,
    bench_service_run,
    bench_store_latency,
    bench_store_memory,
)
from bench.service import ROUNDS_DRF, ROUNDS_LANE


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v]


class Command(BaseCommand):
    help = "IM API benchmark on a synthetic store (default 1,000,000 items over 100 accounts), driven by wrk."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--setups",
            default="lane:uvicorn,lane:granian,lane:daphne,drf:uvicorn,lane:uvicornx2",
            help="<lane|drf|ceiling>:<uvicorn|granian|daphne>[x<processes>], comma-separated; lane is the "
            "default hub, drf sends every request through Django + DRF; x2 = two processes (Redis)",
        )
        parser.add_argument("--connections", type=_ints, default=[10, 100, 1000])
        parser.add_argument("--history-setups", default="lane:uvicorn")
        parser.add_argument("--history-connections", type=_ints, default=[10, 100, 1000])
        parser.add_argument("--accounts", type=int, default=100)
        parser.add_argument("--items", type=int, default=1_000_000)
        parser.add_argument(
            "--history", type=int, default=10, help="account 1 gets this many times its share"
        )
        parser.add_argument("--duration", type=int, default=5, help="seconds per route and level")
        parser.add_argument(
            "--output", default="docs/bench-api-run.md", help="the raw run table ('' to only print)"
        )
        parser.add_argument("--routes", default="", help="comma-separated route names (default: all)")
        parser.add_argument("--skip-store", action="store_true", help="skip the in-process DataStore figures")
        parser.add_argument(
            "--service-time",
            action="store_true",
            help="only the in-process CPU time per request of each route, lane against Django + DRF",
        )
        parser.add_argument(
            "--memory-only",
            action="store_true",
            help="only the in-process DataStore figures (memory, query service time)",
        )

    def _store_figures(self) -> list[str]:
        """In-process DataStore figures: memory per item and query service time against history size."""
        memory = bench_store_memory()
        memory_line = (
            f"DataStore memory (tracemalloc, {memory['items']:,.0f} items of the benchmark dataset): "
            f"{memory['bytes_per_item']:.0f} bytes/item in all, of which {memory['text_bytes_per_item']:.0f} "
            f"text: {memory['bytes_per_item_beyond_text']:.0f} bytes/item beyond text."
        )
        self.stdout.write(memory_line)
        latency = bench_store_latency()
        names = [k for k in latency[0] if k != "items"]
        latency_lines = [
            "",
            "DataStore service time per query (first page of 20 unless stated; microseconds; one account; "
            "the same query against 10x and 100x the history):",
            "",
            "| items in the account | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
            *(
                f"| {row['items']:,} | " + " | ".join(f"{row[n]:.1f}" for n in names) + " |"
                for row in latency
            ),
        ]
        self.stdout.write("\n".join(latency_lines))
        return [memory_line, *latency_lines]

    def _service_time(self, opts: dict[str, Any], routes: tuple[tuple[str, str], ...]) -> list[str]:
        rows = bench_service_run(accounts=opts["accounts"], items=opts["items"], routes=routes)
        lines = [
            f"In-process service time (CPU microseconds per request, {opts['items']:,} items over "
            f"{opts['accounts']} accounts; lane {ROUNDS_LANE} and Django + DRF {ROUNDS_DRF} requests per route):",
            "",
            "| route | read lane | read lane, answer not kept | Django + DRF | DRF / lane (not kept) |",
            "|---|---|---|---|---|",
            *(
                f"| {r['route']} | {r['lane_us']:.0f} | {r['lane_fresh_us']:.0f} | {r['drf_us']:.0f} | "
                f"{r['drf_us'] / r['lane_fresh_us']:.1f}x |"
                for r in rows
            ),
        ]
        self.stdout.write("\n".join(lines))
        return lines

    def handle(self, *args: Any, **opts: Any) -> None:
        routes = tuple(
            r for r in ROUTES if not opts["routes"] or r[0].split(" ")[0] in opts["routes"].split(",")
        )
        if opts["service_time"]:
            self._service_time(opts, routes)
            return
        if shutil.which("wrk") is None:
            raise CommandError("wrk is not installed (apt-get install wrk)")
        notes = [] if opts["skip_store"] else self._store_figures()
        if opts["memory_only"]:
            return
        load_before = os.getloadavg()
        results = bench_im_run(
            setups=[s for s in opts["setups"].split(",") if s],
            connections=opts["connections"],
            history_setups=[s for s in opts["history_setups"].split(",") if s],
            history_connections=opts["history_connections"],
            accounts=opts["accounts"],
            items=opts["items"],
            boost=opts["history"],
            duration=opts["duration"],
            routes=routes,
            log=lambda line: self.stdout.write(line),
        )
        load_after = os.getloadavg()
        notes.append(
            f"\nMachine load average (1/5/15 min) at start {load_before[0]:.1f}/{load_before[1]:.1f}/"
            f"{load_before[2]:.1f}, at end {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} "
            f"({os.cpu_count()} cores shared with other work; wrk runs on the same cores)."
        )
        if opts["output"]:
            command = "python -m bench api " + " ".join(shlex.quote(a) for a in sys.argv[2:])
            section = bench_im_markdown(results=results, command=command.strip(), notes=notes)
            bench_im_write(path=Path(opts["output"]), section=section)
            self.stdout.write(f"written to {opts['output']}")

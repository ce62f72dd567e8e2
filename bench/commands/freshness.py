"""`python -m bench freshness`: DM and comment latency to the agent's socket, listener vs polling."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench.freshness import run_mode


class Command(BaseCommand):
    help = (
        "Simulator -> agent /ws/im/ latency of DMs and comments, worker idle CPU and PSS per account, "
        "for the push listener and for polling, in one run."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--accounts", type=int, default=20)
        parser.add_argument("--modes", default="listen,poll", help="listen, poll or both (comma-separated)")
        parser.add_argument("--dms", type=int, default=5, help="DMs injected per account")
        parser.add_argument("--comments", type=int, default=2, help="comments injected per account")
        parser.add_argument("--window", type=float, default=120.0, help="seconds the injections spread over")
        parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle CPU measurement")
        parser.add_argument("--interval", type=float, default=60.0, help="crawl interval per account (s)")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for arrivals")
        parser.add_argument(
            "--listen-interval", type=float, default=600.0, help="crawl interval of a listening account (s)"
        )
        parser.add_argument("--json", action="store_true", help="print the results as JSON lines only")

    def handle(self, *args: Any, **opts: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for mode in [m.strip() for m in opts["modes"].split(",") if m.strip()]:
                result = run_mode(
                    Path(tmp) / mode,
                    mode=mode,
                    accounts=opts["accounts"],
                    dms=opts["dms"],
                    comments=opts["comments"],
                    window=opts["window"],
                    idle=opts["idle"],
                    interval=opts["interval"],
                    timeout=opts["timeout"],
                    listen_interval=opts["listen_interval"],
                )
                print(json.dumps(result, ensure_ascii=False), flush=True)

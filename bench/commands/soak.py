"""`python -m bench soak`: the whole system under steady load for a bounded time (RSS, lag, errors)."""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import sys
import tempfile
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bench.soak import (
    SIZES,
    SoakConfig,
    SoakError,
    random_redis_db,
    soak_markdown,
    soak_run,
    soak_summary,
)
from imhub.processes import ProcessError

# the store's bytes per item: docs/benchmarks.md, Ingest, "Store memory" (tracemalloc, 100,000 comments)
STORE_BYTES_PER_ITEM = 466.0


class Command(BaseCommand):
    help = (
        "Soak: hub(s), the Douyin simulator in live mode, real workers (Chromium), QR login, wrk on the IM "
        "API and an agent on /ws/im/, for --duration seconds; exits non-zero on any error."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--duration", type=float, default=600.0, help="seconds of steady load (default 600)"
        )
        parser.add_argument("--accounts", type=int, default=20)
        parser.add_argument("--workers", type=int, default=2, help="crawler workers sharing the accounts")
        parser.add_argument(
            "--hub-processes", type=int, default=1, help="hub processes (>1 needs --redis-url)"
        )
        parser.add_argument(
            "--database-url", default="", help="a fresh database (default: a new SQLite file in the work dir)"
        )
        parser.add_argument(
            "--redis-url", default="", help="Redis (a random logical db is used); default in-memory layer"
        )
        parser.add_argument("--live-rate", type=float, default=6.0, help="live items per minute per account")
        parser.add_argument("--interval", type=float, default=15.0, help="monitor interval per account, s")
        parser.add_argument("--connections", type=int, default=4, help="wrk connections")
        parser.add_argument(
            "--memory-interval", type=float, default=30.0, help="seconds between memory samples in the window"
        )
        parser.add_argument("--size", choices=sorted(SIZES), default="small", help="simulated account size")
        parser.add_argument("--server", default="uvicorn", choices=["uvicorn", "granian", "daphne"])
        parser.add_argument("--work-dir", default="", help="logs and state (default: a temporary directory)")
        parser.add_argument("--output", default="", help="write the markdown table to this file too")
        parser.add_argument("--json", default="", help="write the figures as JSON to this file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if shutil.which("wrk") is None:
            raise CommandError("wrk is not installed (apt-get install wrk)")
        if opts["hub_processes"] > 1 and not opts["redis_url"]:
            raise CommandError("--hub-processes > 1 needs --redis-url")
        work_dir = opts["work_dir"] or tempfile.mkdtemp(prefix="imhub-soak-")
        config = SoakConfig(
            duration=opts["duration"],
            accounts=opts["accounts"],
            workers=opts["workers"],
            hub_processes=opts["hub_processes"],
            database_url=opts["database_url"],
            redis_url=random_redis_db(opts["redis_url"]) if opts["redis_url"] else "",
            live_rate=opts["live_rate"],
            interval=opts["interval"],
            connections=opts["connections"],
            memory_interval=opts["memory_interval"],
            size=opts["size"],
            server=opts["server"],
            work_dir=work_dir,
        )
        self.stdout.write(f"logs in {work_dir}")
        # SIGTERM ends the run like Ctrl-C: the children (own process groups) are stopped on the way out
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            result = soak_run(config, log=lambda line: self.stdout.write(line))
        except (SoakError, ProcessError) as exc:
            raise CommandError(f"soak failed: {exc}") from None
        command = "python -m bench soak " + " ".join(shlex.quote(a) for a in sys.argv[2:] if "://" not in a)
        table = soak_markdown(result, command=command.strip(), bytes_per_item=STORE_BYTES_PER_ITEM)
        self.stdout.write(table)
        for line in result.error_details:
            self.stdout.write(f"error: {line}")
        if opts["output"]:
            with open(opts["output"], "w") as out:
                out.write(table)
        if opts["json"]:
            with open(opts["json"], "w") as out:
                json.dump(soak_summary(result), out, indent=1)
        if result.error_total:
            raise CommandError(f"{result.error_total} error(s) during the soak")
        if not result.lag_all_ms:
            raise CommandError("no lag samples: no live item reached the agent")

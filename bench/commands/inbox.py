"""`python -m bench inbox`: the inbox page in real Chromium on a 1,000,000-item store (bench/inbox.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench.inbox import bench_inbox_markdown, bench_inbox_run, bench_inbox_write


class Command(BaseCommand):
    help = "Time from login to first inbox rows, and requests per view, in Chromium on a synthetic store."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--accounts", type=int, default=100)
        parser.add_argument("--items", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=5, help="fresh logins to time")
        parser.add_argument("--output", default="docs/benchmarks.md", help="'' to only print")

    def handle(self, *args: Any, **options: Any) -> None:
        result = bench_inbox_run(
            accounts=options["accounts"], items=options["items"], runs=options["runs"], log=self.stdout.write
        )
        command = "python -m bench inbox " + shlex.join(sys.argv[2:])
        section = bench_inbox_markdown(result=result, command=command.strip())
        self.stdout.write(section)
        if options["output"]:
            bench_inbox_write(path=Path(options["output"]), section=section)

"""`python -m bench crawler crawl|rss [N ...]`: a worker's first full crawl, and its memory by account count."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench.crawler import bench_crawl, bench_rss


class Command(BaseCommand):
    help = "Worker benchmarks against the simulator: first full crawl time, or RSS/PSS per account count."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["crawl", "rss"])
        parser.add_argument("counts", nargs="*", type=int, default=[5, 10, 20], help="account counts (rss)")
        parser.add_argument("--settle", type=float, default=60.0, help="seconds of steady crawling (rss)")

    def handle(self, *args: Any, **opts: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            if opts["what"] == "crawl":
                bench_crawl(Path(tmp), works=50, comments=1000, conversations=100, messages=1500)
            else:
                for n in opts["counts"]:
                    bench_rss(Path(tmp) / str(n), accounts=n, settle=opts["settle"])

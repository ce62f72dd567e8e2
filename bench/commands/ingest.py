"""`python -m bench ingest`: items/s durably applied and acked over a real WebSocket; store bytes/item."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bench.ingest import ingest_run, ingest_service_time, store_memory_per_item


class Command(BaseCommand):
    help = "Ingest benchmark: a synthetic worker pushes deltas to a fresh daphne hub and waits for acks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--items", type=int, default=100_000)
        parser.add_argument("--batch", type=int, default=500, help="records per sync frame")
        parser.add_argument("--window", type=int, default=8, help="unacked frames in flight")
        parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
        parser.add_argument("--memory-items", type=int, default=100_000, help="0 to skip the memory figure")
        parser.add_argument(
            "--service-time",
            action="store_true",
            help="instead: CPU time per item of parsing and applying frames in one process (hub + PostgreSQL)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["service_time"]:
            svc = ingest_service_time(database_url=opts["database_url"], batch=opts["batch"])
            self.stdout.write(
                f"service time ({svc['vendor']}, {svc['items']} items, batch {opts['batch']}): "
                f"hub CPU {svc['hub_cpu_us']:.1f} us/item + database backend CPU {svc['db_cpu_us']:.1f} us/item; "
                f"wall {svc['wall_us']:.1f} us/item"
            )
            return
        result = ingest_run(
            items=opts["items"],
            batch=opts["batch"],
            window=opts["window"],
            database_url=opts["database_url"],
        )
        self.stdout.write(
            f"ingest ({result.database}): {result.items} items in {result.frames} frames "
            f"(batch {result.batch}, window {result.window}) in {result.seconds:.2f}s = "
            f"{result.items_per_second:,.0f} items/s durably applied and acked"
        )
        if opts["memory_items"]:
            memory = store_memory_per_item(items=opts["memory_items"])
            self.stdout.write(
                f"store memory: {memory['bytes_per_item']:.0f} bytes/item, "
                f"{memory['bytes_per_item_beyond_text']:.0f} bytes/item beyond text "
                f"({opts['memory_items']} comments, tracemalloc)"
            )

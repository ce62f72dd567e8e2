"""`python -m bench startup`: seconds before a hub process over N stored items serves the IM API."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bench.startup import startup_run


class Command(BaseCommand):
    help = "Start-up benchmark: fill a fresh database, then time hub starts (cold, from the snapshot, one account changed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000, help="items in the database")
        parser.add_argument("--accounts", type=int, default=100)
        parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")

    def handle(self, *args: Any, **opts: Any) -> None:
        results = startup_run(rows=opts["rows"], accounts=opts["accounts"], database_url=opts["database_url"])
        self.stdout.write(
            "| start | serves after (s) | load (s) | from snapshot | from database | RSS (MB) | stop (s) |"
        )
        self.stdout.write("|---|---|---|---|---|---|---|")
        for r in results:
            load = r["load"] or {}
            self.stdout.write(
                f"| {r['start']} | {r['serves_after_s']} | {r['load_s']} | "
                f"{load.get('snapshot_accounts')} accounts / {load.get('snapshot_rows')} rows | "
                f"{load.get('database_accounts')} accounts / {load.get('database_rows')} rows | "
                f"{r['rss_mb']} | {r['stop_s']} |"
            )

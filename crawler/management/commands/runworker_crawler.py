"""`manage.py runworker_crawler --worker-id W --hub ws://HOST:PORT`: run a crawler worker (thin).

The worker token comes from the environment (`IMHUB_WORKER_TOKEN`), never from the command line.
Every few seconds a status line per account is printed (state, next run, items, last error).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crawler.browser import BrowserPool
from crawler.worker import Worker


def status_lines(worker: Worker) -> list[str]:
    """The live status table, one line per account."""
    lines = [
        f"worker {worker.worker_id}: {'connected' if worker.registered.is_set() else 'waiting for hub'}, "
        f"{len(worker.runners)} accounts, outbox {worker.outbox_depth()}"
    ]
    for row in worker.account_rows():
        next_run = "-" if row["next_run_in"] is None else f"{row['next_run_in']:.0f}s"
        lines.append(
            f"  account {row['account_id']} {row['platform']}: {row['state']}/{row['login']} "
            f"next {next_run} items {row['items']} crawls {row['crawls']} errors {row['errors']}"
            + (f" last error: {row['last_error']}" if row["last_error"] else "")
        )
    return lines


class Command(BaseCommand):
    help = "Run a crawler worker that connects to the hub at --hub."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-id", required=True)
        parser.add_argument("--hub", required=True, help="ws://HOST:PORT of a hub")
        parser.add_argument("--data-dir", default="var/worker")
        parser.add_argument("--headless", action="store_true", default=True)
        parser.add_argument("--headed", dest="headless", action="store_false")
        parser.add_argument("--max-accounts", type=int, default=20)
        parser.add_argument("--status-interval", type=float, default=5.0)
        parser.add_argument("--max-concurrent-crawls", type=int, default=4)
        parser.add_argument(
            "--listen-pages",
            type=int,
            default=None,
            help="resident push-listening pages (default IMHUB_LISTEN_PAGES; 0: poll only)",
        )
        parser.add_argument(
            "--reconcile-interval",
            type=float,
            default=None,
            help="seconds between full chat walks of a listening account (default IMHUB_RECONCILE_INTERVAL)",
        )
        parser.add_argument(
            "--listen-crawl-interval",
            type=float,
            default=None,
            help="seconds between periodic crawls of a listening account (default IMHUB_LISTEN_CRAWL_INTERVAL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = settings.IMHUB_WORKER_TOKEN
        if not token:
            raise CommandError("set IMHUB_WORKER_TOKEN to the worker's token (manage.py create_worker)")
        # Django configured logging from settings.LOGGING (console handler with the secret redaction
        # filter); the command only sets the level, never a handler of its own.
        logging.getLogger().setLevel(settings.LOG_LEVEL)
        data_dir = Path(options["data_dir"]) / options["worker_id"]
        worker = Worker(
            pool=BrowserPool(
                data_dir=data_dir, headless=options["headless"], state_key=settings.IMHUB_WORKER_STATE_KEY
            ),
            worker_id=options["worker_id"],
            hub_url=options["hub"],
            token=token,
            data_dir=data_dir,
            headless=options["headless"],
            max_accounts=options["max_accounts"],
            max_concurrent_crawls=options["max_concurrent_crawls"],
            listen_pages=settings.IMHUB_LISTEN_PAGES
            if options["listen_pages"] is None
            else options["listen_pages"],
            reconcile_interval=settings.IMHUB_RECONCILE_INTERVAL
            if options["reconcile_interval"] is None
            else options["reconcile_interval"],
            listen_crawl_interval=settings.IMHUB_LISTEN_CRAWL_INTERVAL
            if options["listen_crawl_interval"] is None
            else options["listen_crawl_interval"],
        )
        asyncio.run(self._serve(worker, options["status_interval"]))

    async def _serve(self, worker: Worker, interval: float) -> None:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: main.cancel() if main else None)

        async def status() -> None:
            while True:
                await asyncio.sleep(interval)
                self.stdout.write("\n".join(status_lines(worker)))
                self.stdout.flush()

        printer = asyncio.create_task(status())
        try:
            await worker.run()
        except asyncio.CancelledError:
            self.stdout.write("worker stopping")
            await worker.shutdown()
        finally:
            printer.cancel()

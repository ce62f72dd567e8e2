"""`manage.py runsimulator douyin --port P`: serve a platform simulator with daphne (thin: args -> app -> serve)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve a local platform simulator (douyin) for the demo and tests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", choices=["douyin"])
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--accounts", type=int, default=3)
        parser.add_argument("--works", type=int, default=30)
        parser.add_argument("--comments", type=int, default=600, help="comments and replies per account")
        parser.add_argument("--conversations", type=int, default=60)
        parser.add_argument("--messages", type=int, default=900, help="messages per account (plus notices)")
        parser.add_argument(
            "--live-rate", type=float, default=0.0, help="new comments/DMs per minute per account"
        )
        parser.add_argument("--qr-ttl", type=float, default=120.0, help="seconds before a login QR expires")
        parser.add_argument(
            "--surface",
            default="default",
            help="surface variants served, comma-separated (default; see the simulator README)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from crawler.simulators.douyin import SimConfig, Sizes, create_app
        from crawler.simulators.douyin.surface import surface_parse

        if options["accounts"] < 1 or options["port"] < 0:
            raise CommandError("--accounts must be >= 1 and --port >= 0")
        try:
            surface_parse(options["surface"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        config = SimConfig(
            seed=options["seed"],
            accounts=options["accounts"],
            sizes=Sizes(
                works=options["works"],
                comments=options["comments"],
                conversations=options["conversations"],
                messages=options["messages"],
            ),
            live_rate=options["live_rate"],
            qr_ttl=options["qr_ttl"],
            surface=options["surface"],
        )
        app = create_app(config, ticker=True)
        host, port = options["host"], options["port"]
        built = time.monotonic() - started

        def ready() -> None:
            self.stdout.write(
                f"simulator douyin listening on http://{host}:{port} "
                f"(seed {config.seed}, {config.accounts} accounts, built in {built:.2f}s)"
            )
            sys.stdout.flush()

        Server(
            application=app,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ready_callable=ready,
            verbosity=0,
        ).run()

"""`manage.py create_worker <worker_id> [--capacity N]`: create a worker and print its token once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import AccountsError, worker_create


class Command(BaseCommand):
    help = "Create a crawler worker and print its token (shown only this once; only a hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_id")
        parser.add_argument("--capacity", type=int, default=10, help="most accounts it may hold (default 10)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            _worker, token = worker_create(worker_id=options["worker_id"], capacity=options["capacity"])
        except AccountsError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"worker {options['worker_id']} created; its token (shown once) follows on stdout")
        self.stdout.write(token)

"""Prepare the demo: users, a team, a worker with a fresh token, and demo accounts.

Prints one JSON object (credentials, worker token, account ids) for `imhub.demo` to read.
Idempotent: running it again reuses users and accounts and issues a new worker token.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Account, AccountStatus, Worker

ADMIN_USER = "admin"
AGENT_USER = "agent"
TEAM_NAME = "Demo team"


class Command(BaseCommand):
    help = "Create the demo users, team, worker and accounts; print them as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=3)
        parser.add_argument("--worker-id", default="demo-worker")
        parser.add_argument("--capacity", type=int, default=20)
        parser.add_argument("--password", default="imhub-demo")
        parser.add_argument("--monitor-interval", type=float, default=15.0)
        parser.add_argument("--nicknames", default="", help="comma-separated nicknames for the accounts")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        team, _ = Group.objects.get_or_create(name=TEAM_NAME)
        admin, _ = User.objects.get_or_create(username=ADMIN_USER, defaults={"email": "admin@example.org"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        agent, _ = User.objects.get_or_create(username=AGENT_USER, defaults={"email": "agent@example.org"})
        agent.set_password(password)
        agent.save()
        agent.groups.add(team)
        from datasync.desk.models import CannedReply

        # the desk's canned replies of the demo team (type /hello or /thanks in the desk's reply box)
        for shortcut, text in (
            ("hello", "您好 {name}，感谢关注！有什么可以帮您？"),
            ("thanks", "谢谢 {name} 的支持 ❤️"),
        ):
            CannedReply.objects.get_or_create(
                team=team, shortcut=shortcut, defaults={"text": text, "title": shortcut}
            )
        admin_token, _ = Token.objects.get_or_create(user=admin)
        agent_token, _ = Token.objects.get_or_create(user=agent)

        worker, _ = Worker.objects.get_or_create(
            worker_id=options["worker_id"],
            defaults={"capacity": options["capacity"], "platforms": ["douyin"]},
        )
        worker_token = worker.issue_token()
        worker.capacity = max(worker.capacity, options["capacity"])
        worker.save()

        nicknames = [n for n in options["nicknames"].split(",") if n]
        accounts = list(Account.objects.filter(team=team).order_by("id"))
        while len(accounts) < options["accounts"]:
            index = len(accounts)
            nickname = nicknames[index] if index < len(nicknames) else f"演示账号{index + 1}"
            accounts.append(
                Account.objects.create(
                    platform="douyin",
                    nickname=nickname,
                    team=team,
                    status=AccountStatus.ACTIVE,
                    monitor_interval=options["monitor_interval"],
                )
            )
        result = {
            "admin": {"username": ADMIN_USER, "password": password, "token": admin_token.key},
            "agent": {"username": AGENT_USER, "password": password, "token": agent_token.key},
            "worker": {"worker_id": worker.worker_id, "token": worker_token},
            "accounts": [{"id": a.pk, "nickname": a.nickname} for a in accounts[: options["accounts"]]],
        }
        self.stdout.write(json.dumps(result, ensure_ascii=False))

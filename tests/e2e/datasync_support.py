"""Helpers for the datasync end-to-end tests: seed a hub, talk to it as a worker over a real WebSocket."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from datasync.protocol import RegisterFrame, dump_frame
from tests.support.processes import Hub, http_json

SEED = """
import json
from accounts.models import Account, Worker
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
worker = Worker(worker_id={worker_id!r}, capacity=10, platforms=["douyin"])
token = worker.issue_token()
worker.save()
account = Account.objects.create(nickname="e2e", platform="douyin", worker=worker, epoch=1)
staff, _ = User.objects.get_or_create(username="staff", defaults={{"is_staff": True, "is_superuser": True}})
api_token, _ = Token.objects.get_or_create(user=staff)
print(json.dumps({{"token": token, "account_id": account.id, "api_token": api_token.key}}))
"""


def hub_seed(hub: Hub, *, worker_id: str = "w1") -> dict[str, Any]:
    """A worker (token) holding one account at epoch 1, and a staff API token."""
    out = hub.shell(SEED.format(worker_id=worker_id))
    return json.loads(out.strip().splitlines()[-1])


def worker_connect(hub: Hub, token: str, *, ws_url: str | None = None, ssl: Any = None) -> ClientConnection:
    """A worker's WebSocket to ``hub`` (or to ``ws_url``, e.g. a proxy in front of it, with ``ssl``)."""
    return connect(
        f"{ws_url or hub.ws_url}/ws/worker/",
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=None,
        open_timeout=10,
        ssl=ssl,
    )


def recv(ws: Connection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=15))


def register(ws: Connection, *, worker_id: str = "w1") -> dict[str, Any]:
    ws.send(dump_frame(RegisterFrame.build(worker_id=worker_id, capabilities=["douyin"])))
    return recv(ws)


def messages_get(hub: Hub, api_token: str, *, account_id: int, conversation_id: str) -> list[str]:
    """Message ids of a conversation as the IM API serves them (from the hub's store)."""
    status, data = http_json(
        "GET",
        f"{hub.url}/api/im/messages/?account_id={account_id}&conversation_id={conversation_id}",
        headers={"Authorization": f"Token {api_token}"},
    )
    assert status == 200, data
    return sorted(item["message_id"] for item in data["results"])


def stats_get(hub: Hub, api_token: str) -> dict[str, Any]:
    status, data = http_json(
        "GET", f"{hub.url}/api/datasync/stats/", headers={"Authorization": f"Token {api_token}"}
    )
    assert status == 200, data
    return data

"""End to end across two hub processes (one PostgreSQL, one Redis): a revocation made anywhere closes the
user's open `/ws/im/` sockets on every process and drops every process's caches (issue 25 #2)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.processes import Hub, http_json, make_hub

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

SEED = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from accounts.models import Account
team = Group.objects.create(name="team-r")
Account.objects.create(nickname="acct", platform="douyin", team=team)
tokens = {}
for name in ("tok", "deact", "member"):
    user = User.objects.create_user(name, password="pw-" + name)
    user.groups.add(team)
    tokens[name] = Token.objects.create(user=user).key
print(json.dumps(tokens))
"""


@pytest.fixture(scope="module")
def hubs(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str
) -> Iterator[tuple[Hub, Hub]]:
    import uuid

    import psycopg

    name = f"revoke_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = postgres_url.rsplit("/", 1)[0] + "/" + name
    redis = redis_url.rsplit("/", 1)[0] + "/7"
    workdir = tmp_path_factory.mktemp("revocation")
    hub_a = make_hub(workdir / "a", database_url=database, redis_url=redis).start()
    hub_b = make_hub(workdir / "b", database_url=database, redis_url=redis, migrate=False).start()
    try:
        yield hub_a, hub_b
    finally:
        hub_a.stop()
        hub_b.stop()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _socket(hub: Hub, token: str) -> ClientConnection:
    ws = connect(
        f"{hub.ws_url}/ws/im/", additional_headers={"Authorization": f"Token {token}"}, open_timeout=15
    )
    assert json.loads(ws.recv(timeout=15))["type"] == "ready"
    return ws


def _closed_with(ws: ClientConnection, *, timeout: float = 20.0) -> tuple[int | None, float]:
    """The close code the hub sent, and how long it took from now."""
    started = time.monotonic()
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), time.monotonic() - started
    except TimeoutError:
        return None, time.monotonic() - started


def _read(hub: Hub, token: str) -> int:
    status, _ = http_json("GET", f"{hub.url}/api/im/accounts/", headers={"Authorization": f"Token {token}"})
    return status


def test_revocations_close_sockets_on_every_process_and_drop_the_caches(hubs: tuple[Hub, Hub]) -> None:
    hub_a, hub_b = hubs
    tokens: dict[str, Any] = json.loads(hub_a.shell(SEED).strip().splitlines()[-1])
    sockets = {name: (_socket(hub_a, key), _socket(hub_b, key)) for name, key in tokens.items()}
    for key in tokens.values():  # warm both processes' token caches
        assert _read(hub_a, key) == 200 and _read(hub_b, key) == 200

    # when a token is deleted (in a third process: manage.py shell)
    hub_a.shell(
        f"from rest_framework.authtoken.models import Token; Token.objects.filter(key='{tokens['tok']}').delete()"
    )
    # then its sockets on both processes close with 4401 and both refuse it over HTTP at once
    codes = [_closed_with(ws) for ws in sockets["tok"]]
    assert [code for code, _ in codes] == [4401, 4401], codes
    assert {_read(hub_a, tokens["tok"]), _read(hub_b, tokens["tok"])} <= {401, 403}  # not the cached 200

    # when a user is deactivated, the same
    hub_a.shell(
        "from django.contrib.auth.models import User; u = User.objects.get(username='deact'); u.is_active = False; u.save()"
    )
    codes = [_closed_with(ws) for ws in sockets["deact"]]
    assert [code for code, _ in codes] == [4401, 4401], codes

    # when a user leaves the team, their sockets close with 4403 (the view changed: reconnect)
    hub_a.shell(
        "from django.contrib.auth.models import Group, User; User.objects.get(username='member').groups.remove(Group.objects.get(name='team-r'))"
    )
    codes = [_closed_with(ws) for ws in sockets["member"]]
    assert [code for code, _ in codes] == [4403, 4403], codes
    # and a new socket of theirs sees no account of the team
    status, rows = http_json(
        "GET", f"{hub_b.url}/api/im/accounts/", headers={"Authorization": f"Token {tokens['member']}"}
    )
    assert status == 200 and rows["results"] == []
    print("revocation -> socket closed (s):", [round(took, 3) for _, took in codes])

"""End-to-end: the read lane in a real hub process answers what Django + DRF answer, byte for byte.

Two real hub processes on one SQLite database: A with the read lane (the default), B with
``IMHUB_READ_LANE=0`` (every request through Django + DRF). A worker syncs items into A over a real
WebSocket; B then starts and loads them from the database. Every read route, for a token client and a
session client (the inbox page's kind), gets the same status, headers and body from both; A's stats
show the lane answered them. And ``--processes 2`` behind one port (the server's workers, Redis fan-out):
every process serves a sync applied by whichever process the worker reached.
"""

from __future__ import annotations

import json
import random
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from tests.datasync.records import comment, content, conversation, message, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, stats_get, worker_connect
from tests.support.processes import Hub, http_json, make_hub, wait_until

pytestmark = [pytest.mark.e2e]

SESSION = """
from django.contrib.auth.models import User
from django.test import Client
client = Client()
client.force_login(User.objects.get(username="staff"))
print(client.cookies["sessionid"].value)
"""


def raw_get(url: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, _kept(response.getheaders()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, _kept(exc.headers.items()), exc.read()


def _kept(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in ("date", "server")]


def _sync_items(hub: Hub, seed: dict, *, seq: int = 1, prefix: str = "k") -> None:
    with worker_connect(hub, seed["token"]) as ws:
        assert register(ws)["type"] == "master:register:ack"
        ws.send(
            sync_text(
                account_id=seed["account_id"],
                epoch=1,
                seq=seq,
                entities={
                    "contents": [content("w1")],
                    "comments": [comment(f"{prefix}{i}", content_id="w1") for i in range(25)],
                    "conversations": [conversation("conv1")],
                    "messages": [message(f"{prefix}m{i}", conversation_id="conv1") for i in range(3)],
                },
            )
        )
        assert recv(ws)["payload"] == {"account_id": seed["account_id"], "seq": seq}


def test_lane_and_drf_processes_answer_the_same_bytes(tmp_path: Path) -> None:
    # given hub A (lane) with synced items, and hub B (Django + DRF only) on the same database
    hub_a = make_hub(tmp_path / "a")
    hub_a.start()
    hub_b = make_hub(
        tmp_path / "b",
        database_url=hub_a.env["DATABASE_URL"],
        migrate=False,
        IMHUB_READ_LANE="0",
    )
    try:
        seed = hub_seed(hub_a)
        _sync_items(hub_a, seed)
        session = hub_a.shell(SESSION).strip().splitlines()[-1]
        hub_b.start()
        account = seed["account_id"]
        routes = [
            "/api/im/accounts/",
            f"/api/im/accounts/{account}/",
            f"/api/im/conversations/?account_id={account}",
            f"/api/im/conversations/conv1/?account_id={account}",
            f"/api/im/messages/?account_id={account}&conversation_id=conv1&limit=2",
            f"/api/im/contents/?account_id={account}&ordering=-likes",
            f"/api/im/contents/w1/?account_id={account}",
            f"/api/im/discussions/?account_id={account}&content_id=w1&limit=10",
            f"/api/im/unified-messages/?account_id={account}&limit=5",
            f"/api/im/unified-messages/?account_id={account}&unread=true&types=comments",
            f"/api/im/unified-messages/stats/?account_id={account}",
            f"/api/im/unified-messages/?account_id={account}&limit=500",
            f"/api/im/unified-messages/?account_id={account + 99}",
        ]
        clients = {
            "token": {"Authorization": f"Token {seed['api_token']}", "Host": "localhost"},
            "session": {"Cookie": f"sessionid={session}", "Accept": "application/json", "Host": "localhost"},
        }
        # when every route is read from both processes by both kinds of client
        before = stats_get(hub_a, seed["api_token"])["process"]["read_lane"]["answered"]
        for name, headers in clients.items():
            for route in routes:
                lane = raw_get(hub_a.url + route, headers)
                drf = raw_get(hub_b.url + route, headers)
                # then the answers are identical, byte for byte
                assert lane == drf, (name, route)
        # and the next page link leads on
        status, _, body = raw_get(
            hub_a.url + f"/api/im/unified-messages/?account_id={account}&limit=5", clients["token"]
        )
        nxt = json.loads(body)["next"]
        assert status == 200 and nxt.startswith("http://localhost/api/im/unified-messages/?account_id=")
        after = stats_get(hub_a, seed["api_token"])["process"]["read_lane"]
        assert after["answered"] - before >= 2 * len(routes) + 1
        b_lane = stats_get(hub_b, seed["api_token"])["process"]["read_lane"]
        assert b_lane == {"answered": 0, "passed_to_django": 0}
        # and the lane's requests are in the API latency histogram
        metrics = urllib.request.urlopen(f"{hub_a.url}/metrics", timeout=20).read().decode()
        assert (
            'imhub_api_request_seconds_count{method="GET",route="api/im/unified-messages/$",status="200"}'
            in metrics
        )
    finally:
        hub_a.stop()
        hub_b.stop()


@pytest.mark.redis
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_two_processes_on_one_port_serve_every_sync(tmp_path: Path, redis_url: str, server: str) -> None:
    # given `imhub.serve --processes 2` (the server's workers on one port) with the Redis fan-out
    redis_url = urlunparse(urlparse(redis_url)._replace(path=f"/{random.randint(1, 15)}"))
    hub = make_hub(tmp_path / "hub", redis_url=redis_url, processes=2, IMHUB_SERVER=server)
    hub.start()
    try:
        seed = hub_seed(hub)
        token = seed["api_token"]
        pids = set()

        def store_pid_seen() -> bool:
            status, stats = http_json(
                "GET", f"{hub.url}/api/datasync/stats/", headers={"Authorization": f"Token {token}"}
            )
            if status == 200:
                pids.add(stats["process"]["pid"])
            return len(pids) >= 2

        wait_until(store_pid_seen, timeout=60, what="answers from two processes")
        # when a worker syncs through whichever process it reaches
        _sync_items(hub, seed)

        # then every process serves the items (fresh connections land on both processes)
        def all_have_them() -> bool:
            seen = {}
            for _ in range(30):
                status, stats = http_json(
                    "GET", f"{hub.url}/api/datasync/stats/", headers={"Authorization": f"Token {token}"}
                )
                assert status == 200
                seen[stats["process"]["pid"]] = stats["store"]["totals"]["comments"]
            return len(seen) >= 2 and all(count == 25 for count in seen.values())

        wait_until(all_have_them, timeout=30, what="both processes to serve the sync")
        status, page = http_json(
            "GET",
            f"{hub.url}/api/im/discussions/?account_id={seed['account_id']}&content_id=w1&limit=100",
            headers={"Authorization": f"Token {token}"},
        )
        assert status == 200 and len(page["results"]) == 25
    finally:
        hub.stop()

"""Issue 24 #1 and #3: a Redis restart forgets every fan-out group membership. Each hub process must
notice it no longer hears the group, join again, catch up from the database what the group carried
meanwhile, and announce those items to its agents; `/healthz` says so meanwhile. #2: agent event ids
name their process, so a resume on the other process asks for a resync."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from imhub.processes import http_json
from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, stats_get, worker_connect
from tests.support.processes import Hub, make_hub, wait_until
from tests.support.services import RedisServer

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.e2e]


def _comments(hub: Hub, api_token: str) -> int:
    return int(stats_get(hub, api_token)["store"]["totals"]["comments"])


def _sync(hub: Hub, token: str, *, account_id: int, seq: int, ids: range) -> None:
    with worker_connect(hub, token) as ws:
        assert register(ws)["type"] == "master:register:ack"
        ws.send(
            sync_text(
                account_id=account_id,
                epoch=1,
                seq=seq,
                entities={"comments": [comment(f"k{i}") for i in ids]},
            )
        )
        assert recv(ws)["payload"] == {"account_id": account_id, "seq": seq}


def _new_comment_ids(agent: Any, *, want: set[str], timeout: float) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while not want <= seen and time.monotonic() < deadline:
        try:
            event = json.loads(agent.recv(timeout=1))
        except TimeoutError:
            continue
        if event.get("type") == "new_item" and event["data"]["kind"] == "comment":
            seen.add(event["data"]["record"]["comment_id"])
    return seen


def test_replicas_rejoin_catch_up_and_announce_after_a_redis_restart(
    tmp_path: Path, fresh_database: str, private_redis: RedisServer
) -> None:
    # given two hub processes on one PostgreSQL database and a private Redis, and an agent on B
    hub_a = make_hub(tmp_path / "a", database_url=fresh_database, redis_url=private_redis.url).start()
    hub_b = make_hub(tmp_path / "b", database_url=fresh_database, redis_url=private_redis.url, migrate=False)
    hub_b.start()
    try:
        seed = hub_seed(hub_a)
        account_id, api_token = seed["account_id"], seed["api_token"]
        _sync(hub_a, seed["token"], account_id=account_id, seq=1, ids=range(10))
        wait_until(lambda: _comments(hub_b, api_token) == 10, timeout=20, what="B to hear seq 1")
        with connect(
            f"{hub_b.ws_url}/ws/im/",
            additional_headers={"Authorization": f"Token {api_token}"},
            open_timeout=10,
        ) as agent:
            assert json.loads(agent.recv(timeout=10))["type"] == "ready"

            # when Redis restarts (every group membership forgotten) and more comments reach A
            private_redis.restart()
            _sync(hub_a, seed["token"], account_id=account_id, seq=2, ids=range(10, 20))

            # then B's health says it lost the group, B joins again, catches up from the database ...
            def b_fanout() -> dict[str, Any]:
                return dict(http_json("GET", f"{hub_b.url}/healthz")[1]["fanout"])

            wait_until(lambda: b_fanout()["rejoins"] >= 1, timeout=40, what="B to rejoin the fan-out")
            wait_until(lambda: _comments(hub_b, api_token) == 20, timeout=40, what="B to catch up seq 2")
            # ... and its agent is told of every item the lost window carried
            want = {f"k{i}" for i in range(10, 20)}
            assert _new_comment_ids(agent, want=want, timeout=20) >= want
        wait_until(lambda: b_fanout()["state"] == "ok", timeout=20, what="B's fan-out healthy again")
        status, health = http_json("GET", f"{hub_b.url}/healthz")
        assert (status, health["fanout"]["catch_ups"] >= 1) == (200, True)

        # and the fan-out works again both ways: a third batch reaches B live
        _sync(hub_a, seed["token"], account_id=account_id, seq=3, ids=range(20, 25))
        wait_until(lambda: _comments(hub_b, api_token) == 25, timeout=20, what="B to hear seq 3")

        # issue 24 #2: an agent whose reconnect lands on the other process is told to resync (its ids
        # mean nothing there), and resuming on its own process replays nothing it already had
        auth = {"Authorization": f"Token {api_token}"}
        with connect(f"{hub_a.ws_url}/ws/im/", additional_headers=auth, open_timeout=10) as on_a:
            last = json.loads(on_a.recv(timeout=10))["last_event_id"]
        with connect(f"{hub_b.ws_url}/ws/im/?last_event_id={last}", additional_headers=auth) as on_b:
            assert json.loads(on_b.recv(timeout=10)) == {"type": "resync_required"}
        with connect(f"{hub_a.ws_url}/ws/im/?last_event_id={last}", additional_headers=auth) as again:
            assert json.loads(again.recv(timeout=10)) == {"type": "ready", "last_event_id": last}
    finally:
        hub_a.stop()
        hub_b.stop()

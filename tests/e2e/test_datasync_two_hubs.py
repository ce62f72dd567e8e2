"""End-to-end: two daphne hub processes on PostgreSQL + Redis; a sync sent to A is served by B."""

from __future__ import annotations

from pathlib import Path

import pytest

from imhub.processes import http_json
from tests.datasync.records import comment, conversation, message, sync_text
from tests.e2e.datasync_support import hub_seed, messages_get, recv, register, stats_get, worker_connect
from tests.support.processes import Hub, make_hub, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def test_a_sync_sent_to_one_hub_process_is_served_by_the_other(
    tmp_path: Path, fresh_database: str, fresh_redis_url: str
) -> None:
    # given two hub processes sharing one database and one Redis (a random logical db)
    redis_url = fresh_redis_url
    hub_a = make_hub(tmp_path / "a", database_url=fresh_database, redis_url=redis_url)
    hub_b = make_hub(tmp_path / "b", database_url=fresh_database, redis_url=redis_url, migrate=False)
    hub_a.start()
    hub_b.start()
    try:
        seed = hub_seed(hub_a)
        account_id = seed["account_id"]
        before = stats_get(hub_b, seed["api_token"])
        assert before["store"]["ready"] is True

        # when a worker syncs to process A
        with worker_connect(hub_a, seed["token"]) as ws:
            assert register(ws)["type"] == "master:register:ack"
            ws.send(
                sync_text(
                    account_id=account_id,
                    epoch=1,
                    seq=1,
                    entities={
                        "comments": [comment(f"k{i}") for i in range(30)],
                        "conversations": [conversation("conv1")],
                        "messages": [message("m1"), message("m2")],
                    },
                )
            )
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 1}

        # then process B serves the items from its own store (fed by fan-out, not by a reload)
        def b_has_them() -> dict | None:
            totals = stats_get(hub_b, seed["api_token"])["store"]["totals"]
            return totals if totals["comments"] == 30 else None

        totals = wait_until(b_has_them, timeout=20, what="process B's store to receive the sync")
        assert (totals["comments"], totals["conversations"], totals["messages"]) == (30, 1, 2)
        b_stats = stats_get(hub_b, seed["api_token"])
        assert b_stats["process"]["frames_applied"] == 0
        assert b_stats["store"]["load_seconds"] is not None
        [account] = b_stats["accounts"]
        assert account["store"]["comments"] == 30
        assert messages_get(hub_b, seed["api_token"], account_id=account_id, conversation_id="conv1") == [
            "m1",
            "m2",
        ]

        # and B's desk queue holds the threads (30 comment threads, one DM thread)
        auth = {"Authorization": f"Token {seed['api_token']}"}

        def queue(hub: Hub, **params: str) -> list[dict]:
            query = "&".join(f"{k}={v}" for k, v in {"limit": "100", "status": "all", **params}.items())
            status, data = http_json("GET", f"{hub.url}/api/desk/threads/?{query}", headers=auth)
            assert status == 200, data
            return list(data["results"])

        assert len(queue(hub_b, kind="comment")) == 30 and len(queue(hub_b, kind="dm")) == 1
        # when an agent on process A resolves the DM thread and assigns a comment thread to themself
        dm = f"{account_id}:dm:conv1"
        status, _ = http_json(
            "POST",
            f"{hub_a.url}/api/desk/threads/bulk/",
            body={"action": "resolve", "ids": [dm]},
            headers=auth,
        )
        assert status == 200
        # then process B's queue shows it at once through the fan-out (no reload, no restart)
        wait_until(
            lambda: [t["id"] for t in queue(hub_b, status="resolved")] == [dm], timeout=10, what="B's queue"
        )

        # and a third process started later loads the same items (and the desk's states) from the database
        hub_c = make_hub(tmp_path / "c", database_url=fresh_database, redis_url=redis_url, migrate=False)
        hub_c.start()
        try:
            c_totals = stats_get(hub_c, seed["api_token"])["store"]["totals"]
            assert (c_totals["comments"], c_totals["conversations"], c_totals["messages"]) == (30, 1, 2)
            assert [t["id"] for t in queue(hub_c, status="resolved")] == [dm]
        finally:
            hub_c.stop()
    finally:
        hub_a.stop()
        hub_b.stop()

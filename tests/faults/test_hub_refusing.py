"""Fault: the hub's database stops for a few seconds while a real worker pushes DMs (issue 24 #5).

The hub refuses the frames with `internal_error`; the worker resends them with backoff on the same
connection (no reconnect), and once the database is back every DM reaches the IM API, each once.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imhub.processes import http_json
from tests.crawler.support import crawler_stack, im_ids, truth_ids, wait_synced
from tests.support.processes import wait_until
from tests.support.services import PostgresServer

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

SIZES = ("--works", "2", "--comments", "6", "--conversations", "3", "--messages", "8")


def test_frames_refused_while_the_database_is_down_are_resent_without_reconnecting(
    tmp_path: Path, private_postgres: PostgresServer
) -> None:
    url = private_postgres.create_database("imhub_refusing")
    with crawler_stack(
        tmp_path, kinds=["session"], sim_args=SIZES, interval=600, hub_options={"database_url": url}
    ) as stack:
        [account_id], [uid] = stack.account_ids, stack.uids
        wait_synced(stack, account_id, uid, timeout=240)
        wait_until(
            lambda: (
                stack.api("GET", f"/api/manage/accounts/{account_id}/")[1]["listener_status"] == "listening"
            ),
            timeout=120,
            what="the listener",
        )
        assert stack.worker is not None
        # when the database stops and fans write DMs meanwhile
        private_postgres.stop()
        dms = [
            stack.sim.control("POST", "inject/message", {"uid": uid, "text": f"库停了 {n}"}) for n in range(3)
        ]
        wait_until(
            lambda: "resending in" in stack.worker.log_tail(400),  # type: ignore[union-attr]
            timeout=60,
            what="the worker to be told the hub refuses its frames",
        )
        time.sleep(5)
        # meanwhile (issue 24 #6) reads go on from memory past the credential caches' 5 s TTL, a write
        # fails fast with a clear 503, and /healthz is 503 naming the database
        status, page = stack.api("GET", f"/api/im/unified-messages/?account_id={account_id}&limit=5")
        assert (status, len(page["results"])) == (200, 5), page
        started = time.monotonic()
        status, refused = stack.api(
            "POST",
            "/api/im/read-marks/",
            {"account_id": account_id, "target": "items", "kind": "messages", "ids": ["x"]},
        )
        assert (status, refused["error"]) == (503, "database_unavailable"), refused
        assert time.monotonic() - started < 30  # fails fast: a liveness bound, not a speed target
        status, health = http_json("GET", f"{stack.hub.url}/healthz", timeout=30)
        assert (status, health["database"]["ok"]) == (503, False)
        private_postgres.start()
        # then every DM reaches the IM API once the database is back, each once
        wanted = {dm["server_id"] for dm in dms}
        wait_until(
            lambda: wanted <= set(im_ids(stack, account_id)["messages"]),
            timeout=180,
            what="the DMs after the outage",
        )
        ids = im_ids(stack, account_id)["messages"]
        assert len(ids) == len(set(ids))
        assert ids == truth_ids(stack, uid)["messages"]
        # and the worker never reconnected: the frames were resent on its one connection
        assert stack.worker.log_tail(100000).count("connected to hub") == 1

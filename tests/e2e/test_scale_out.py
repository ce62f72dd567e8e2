"""End to end, scaled out: three hub processes on one PostgreSQL database and one Redis, the simulator in
live mode, a real worker (Chromium) streaming to process 1, and an agent on each process's ``/ws/im/``.

Shows that live items, read marks and reply status cross processes, and that a process killed with
SIGKILL mid-stream and restarted on its port catches up (API equal to the simulator's ground truth and to
the other processes; a client resuming with its old event id is told to resync).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from crawler.browser_path import chromium_executable
from datasync.protocol import ENTITY_ID_FIELDS
from tests.crawler.support import Stack, crawler_stack, im_ids, truth_ids, wait_synced
from tests.support.processes import Hub, make_hub, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis, pytest.mark.browser]

SIM_ARGS = ("--works", "3", "--comments", "20", "--conversations", "3", "--messages", "15")
INTERVAL = 2.0  # the accounts' crawl interval (s)
LIVE_RATE = 30.0  # new comments/DMs per minute per account in the simulator
LIVE_ITEMS = 12  # live items measured for the fan-out lag
# The functional requirement (issue 13): an item reaches every agent within 1 s of its ack.
MAX_LAG = 1.0
# an event's record kind ("comment") -> its id field
ID_FIELDS = {field.removesuffix("_id"): field for field in ENTITY_ID_FIELDS.values()}


class Agent:
    """An agent's ``/ws/im/`` connection read by a thread; every event is kept with its arrival time."""

    def __init__(self, hub: Hub, token: str, *, last_event_id: int | None = None) -> None:
        query = "" if last_event_id is None else f"?last_event_id={last_event_id}"
        self.ws: ClientConnection = connect(
            f"{hub.ws_url}/ws/im/{query}",
            additional_headers={"Authorization": f"Token {token}"},
            open_timeout=15,
            max_size=None,
        )
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                arrived = time.monotonic()
                with self._lock:
                    self.events.append((arrived, json.loads(raw)))
        except ConnectionClosed:
            pass

    def seen(self) -> list[tuple[float, dict[str, Any]]]:
        with self._lock:
            return list(self.events)

    def first(self, predicate: Any, *, timeout: float = 60.0, what: str = "event") -> dict[str, Any]:
        return wait_until(
            lambda: next((e for _, e in self.seen() if predicate(e)), None), timeout=timeout, what=what
        )

    def arrivals(self) -> dict[tuple[int, str, str], float]:
        """(account, kind, id) -> arrival time of each ``new_item`` event (the first one)."""
        found: dict[tuple[int, str, str], float] = {}
        for arrived, event in self.seen():
            if event.get("type") == "new_item":
                kind = event["data"]["kind"]
                key = (event["account_id"], kind, event["data"]["record"][ID_FIELDS[kind]])
                found.setdefault(key, arrived)
        return found

    def last_event_id(self) -> int:
        return max(e["event_id"] for _, e in self.seen() if "event_id" in e)

    def close(self) -> None:
        self.ws.close()
        self._thread.join(timeout=10)


def _api(stack: Stack, hub: Hub, method: str, path: str, body: Any = None) -> Any:
    status, data = dataclasses.replace(stack, hub=hub).api(method, path, body)
    assert status in (200, 201, 202), (hub.port, path, status, data)
    return data


def _ids(stack: Stack, hub: Hub, account_id: int) -> dict[str, list[str]]:
    return im_ids(dataclasses.replace(stack, hub=hub), account_id)


def _serving(
    stack: Stack, hub: Hub, account_id: int, truth: dict[str, list[str]]
) -> dict[str, list[str]] | None:
    """The ids `hub` serves for the account once they equal `truth`, else None."""
    ids = _ids(stack, hub, account_id)
    return ids if ids == truth else None


def _lags(agents: list[Agent], keys: list[tuple[int, str, str]]) -> list[float]:
    """Per item: its arrival at the other processes' agents minus its arrival at the acking process's
    agent (process 1 applies a frame to its own store, and publishes the events, before it acks)."""
    first, *others = (agent.arrivals() for agent in agents)
    return [max(other[key] for other in others) - first[key] for key in keys]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@pytest.fixture
def scaled(tmp_path: Path, fresh_database: str, fresh_redis_url: str) -> Iterator[tuple[Stack, list[Hub]]]:
    if chromium_executable() is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    options: dict[str, Any] = {"database_url": fresh_database, "redis_url": fresh_redis_url}
    with crawler_stack(
        tmp_path, kinds=["session", "session"], sim_args=SIM_ARGS, interval=INTERVAL, hub_options=options
    ) as stack:
        hubs = [stack.hub]
        try:
            for name in ("hub2", "hub3"):
                hubs.append(make_hub(tmp_path / name, migrate=False, **options).start())
            yield stack, hubs
        except BaseException:
            for hub in hubs[1:]:
                if hub.process is not None:
                    print(f"---- {hub.process.name} log ----\n" + hub.process.log_tail(40))
            raise
        finally:
            for hub in hubs[1:]:
                hub.stop()


def test_three_hub_processes_serve_one_live_stream_and_a_killed_one_catches_up(
    scaled: tuple[Stack, list[Hub]],
) -> None:
    stack, hubs = scaled
    hub1, hub2, hub3 = hubs
    token = stack.api_token
    # given both accounts crawled in full through process 1, and an agent on each process
    for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
        wait_synced(stack, account_id, uid)
    agents = [Agent(hub, token) for hub in hubs]
    for agent in agents:
        agent.first(lambda e: e["type"] == "ready", what="the agent's ready")

    # when the platform produces new comments and DMs live
    stack.sim.control("POST", "live", {"rate": LIVE_RATE})

    # then every item the worker syncs reaches every agent, within 1 s of its ack
    def live_keys() -> list[tuple[int, str, str]] | None:
        arrived = agents[0].arrivals()
        keys = [k for k in arrived if k[1] in ("comment", "message")]
        return keys if len(keys) >= LIVE_ITEMS else None

    keys = wait_until(live_keys, timeout=120, interval=0.5, what=f"{LIVE_ITEMS} live items on process 1")
    wait_until(
        lambda: all(set(keys) <= set(agent.arrivals()) for agent in agents[1:]),
        timeout=30,
        what="the live items on processes 2 and 3",
    )
    lags = _lags(agents, keys)
    print(f"fan-out lag over {len(lags)} items: max {max(lags):.3f} s, p99 {_p99(lags):.3f} s")
    # a functional requirement of issue 13 (not a benchmark): 1 s is the bound agents are promised
    assert max(lags) < MAX_LAG, sorted(lags)

    # when an agent marks three incoming DMs read through process 2
    account_id, uid = stack.account_ids[0], stack.uids[0]
    rows = _api(
        stack, hub2, "GET", f"/api/im/unified-messages/?account_id={account_id}&types=messages&unread=true"
    )
    unread = [r["id"] for r in rows["results"]][:3]
    assert len(unread) == 3, rows
    mark = _api(
        stack,
        hub2,
        "POST",
        "/api/im/read-marks/",
        {"account_id": account_id, "target": "items", "kind": "messages", "ids": unread},
    )

    # then processes 1 and 3 tell their agents and serve those DMs read
    for agent in (agents[0], agents[2]):
        event = agent.first(
            lambda e: e.get("type") == "read_mark" and e["data"].get("id") == mark["id"], what="the read mark"
        )
        assert (event["account_id"], event["data"]["ids"]) == (account_id, unread)
    for hub in (hub1, hub3):
        status = _api(
            stack, hub, "GET", f"/api/im/unified-messages/?account_id={account_id}&types=messages&limit=100"
        )
        served = {r["id"]: r["unread"] for r in status["results"]}
        assert [served[i] for i in unread] == [False, False, False], hub.port

    # when an agent replies to a DM conversation through process 3
    conversation_id = next(r["record"]["conversation_id"] for r in rows["results"])
    text = f"scale-out reply {time.time_ns()}"
    reply = _api(
        stack,
        hub3,
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": {"kind": "message", "conversation_id": conversation_id},
            "text": text,
            "idempotency_key": f"scale-out-{time.time_ns()}",
        },
    )
    assert reply["status"] == "pending"

    # then the worker (on process 1) performs it on the platform, and processes 1 and 2 show it sent
    for agent in (agents[0], agents[1]):
        agent.first(
            lambda e: (
                e.get("type") == "reply_status"
                and (e["data"]["id"], e["data"]["status"]) == (reply["id"], "sent")
            ),
            timeout=90,
            what="the reply's sent status",
        )
        statuses = [
            e["data"]["status"]
            for _, e in agent.seen()
            if e.get("type") == "reply_status" and e["data"]["id"] == reply["id"]
        ]
        assert statuses == ["pending", "sent"]
    done = [_api(stack, hub, "GET", f"/api/im/replies/{reply['id']}/") for hub in (hub1, hub2)]
    assert [d["status"] for d in done] == ["sent", "sent"]
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    assert done[0]["platform_reply_id"] in {m["server_id"] for m in truth["messages"]}
    log = stack.sim.control("GET", "log")["log"]
    assert [e["text"] for e in log if e["kind"] == "message_send"] == [text]

    # when process 2 is killed (SIGKILL) while live items keep flowing, and restarted on its port
    stale = agents[1].last_event_id()
    agents[1].close()
    hub2.kill()
    wait_until(lambda: len(agents[0].arrivals()) >= len(keys) + 4, timeout=60, what="items while 2 is down")
    hub2.start(timeout=120)
    # then an agent resuming there with its old event id is told to resync (the process has a new
    # event history), and then gets the live stream again
    resumed = Agent(hub2, token, last_event_id=stale)
    try:
        resumed.first(lambda e: e["type"] == "ready", what="the resumed agent's ready")
        assert [e["type"] for _, e in resumed.seen()][:2] == ["resync_required", "ready"]
        before = len(agents[0].arrivals())
        wait_until(lambda: len(agents[0].arrivals()) >= before + 2, timeout=60, what="new live items")
        new_keys = [k for k in agents[0].arrivals() if k not in set(keys)][-2:]
        wait_until(
            lambda: set(new_keys) <= set(resumed.arrivals()), timeout=30, what="live items on restarted 2"
        )

        # and once the platform is quiet and the worker has crawled it all, every process serves the
        # simulator's ground truth exactly: nothing lost, nothing twice
        stack.sim.control("POST", "live", {"rate": 0})
        for account_id, uid in zip(stack.account_ids, stack.uids, strict=True):
            wait_synced(stack, account_id, uid, timeout=120)
            truth = truth_ids(stack, uid)
            for hub in hubs:
                served = wait_until(
                    functools.partial(_serving, stack, hub, account_id, truth),
                    timeout=30,
                    what=f"process {hub.port} to serve account {account_id}'s ground truth",
                )
                assert all(len(v) == len(set(v)) for v in served.values())
        # and process 3's agent, connected throughout, got exactly the items process 1's agent got
        assert set(agents[2].arrivals()) == set(agents[0].arrivals())
    finally:
        resumed.close()
        for agent in agents:
            agent.close()

"""Issue 24 #4: agent sockets that never read. Each is closed once it falls behind its budget (4008),
the hub keeps answering meanwhile (200 of them, as in the issue) and when they all go at once, and nothing piles up per socket."""

from __future__ import annotations

import base64
import os
import socket
import time
from pathlib import Path

import pytest

from imhub.processes import http_json
from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, worker_connect
from tests.support.processes import Hub, make_hub

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

AGENTS = 200
LIVENESS = 15.0  # seconds: a generous bound that a stalled hub misses; not a speed target


def _raw_agent(hub: Hub, token: str) -> socket.socket:
    """A WebSocket to /ws/im/ that completes the handshake and then never reads (a 4 KB receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", hub.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/im/ HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Token {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: the frames after the headers stay unread
    assert b" 101 " in head.split(b"\r\n", 1)[0], head
    return sock


def _health_seconds(hub: Hub) -> float:
    started = time.monotonic()
    status, _ = http_json("GET", f"{hub.url}/healthz", timeout=LIVENESS * 2)
    assert status in (200, 503)
    return time.monotonic() - started


def test_agents_that_never_read_are_closed_and_the_hub_keeps_answering(tmp_path: Path) -> None:
    # given a hub whose agent budget is 100 queued events or a 5 s blocked send, and 200 agent sockets
    # that never read
    hub = make_hub(tmp_path / "hub", IMHUB_AGENT_QUEUE_MAX="100", IMHUB_AGENT_SEND_TIMEOUT="5").start()
    try:
        seed = hub_seed(hub)
        agents = [_raw_agent(hub, seed["api_token"]) for _ in range(AGENTS)]
        # when 4,000 items of 2 KB arrive (each an event for every agent: ~800 MB if it were all kept)
        health = []
        with worker_connect(hub, seed["token"]) as ws:
            assert register(ws)["type"] == "master:register:ack"
            for seq in range(1, 21):
                items = [comment(f"s{seq}-{i}", text="慢" * 700) for i in range(200)]
                ws.send(
                    sync_text(account_id=seed["account_id"], epoch=1, seq=seq, entities={"comments": items})
                )
                assert recv(ws)["payload"] == {"account_id": seed["account_id"], "seq": seq}
                health.append(_health_seconds(hub))
        # then every slow socket was closed as too slow ...
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            closed = hub.log_path.read_text(errors="replace").count("closing a slow /ws/im/ socket")
            if closed >= AGENTS:
                break
            time.sleep(0.5)
        assert closed == AGENTS
        # ... and the hub answered its health check in time throughout, and after they all go at once
        for sock in agents:
            sock.close()
        health.append(_health_seconds(hub))
        assert max(health) < LIVENESS, health
        # and the hub still serves a reading agent
        status, _ = http_json(
            "GET", f"{hub.url}/api/im/accounts/", headers={"Authorization": f"Token {seed['api_token']}"}
        )
        assert status == 200
    finally:
        hub.stop()

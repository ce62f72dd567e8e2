"""The simulator's IM WebSocket (`/sim-im/v1/frontier`), in process over ASGI: a session opens it, each
pushed message comes as one binary PushFrame-shaped frame, no session is closed 4401."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

from crawler.simulators.douyin.api import FRONTIER_PATH
from tests.simulators.conftest import Sim


def _fields(frame: bytes) -> dict[int, Any]:
    """Top-level protobuf fields of a frame (varints and length-delimited only)."""
    out: dict[int, Any] = {}
    at = 0

    def varint() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = frame[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while at < len(frame):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out[number] = varint()
        else:
            assert wire == 2, wire
            size = varint()
            out[number] = frame[at : at + size]
            at += size
    return out


async def _socket(
    sim: Sim, cookie: str | None
) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Queue[dict[str, Any]], Any]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    headers = [(b"host", b"127.0.0.1")] + ([(b"cookie", f"sessionid={cookie}".encode())] if cookie else [])
    scope = {
        "type": "websocket",
        "path": FRONTIER_PATH,
        "raw_path": FRONTIER_PATH.encode(),
        "query_string": b"",
        "headers": headers,
    }
    await inbox.put({"type": "websocket.connect"})
    task = asyncio.create_task(sim.app(scope, inbox.get, outbox.put))
    return inbox, outbox, task


async def test_a_pushed_message_comes_as_one_binary_frame(sim: Sim) -> None:
    cookie = await sim.login()
    inbox, outbox, task = await _socket(sim, cookie)
    assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "websocket.accept"
    # when a fan writes to the account
    made = await sim.control("POST", "inject/message", {"uid": sim.uid, "text": "帧"})
    # then one binary frame carries it (PushFrame fields: seqid, method, payload type, gzipped payload)
    sent = await asyncio.wait_for(outbox.get(), 5)
    fields = _fields(sent["bytes"])
    assert (fields[1], fields[4], fields[7]) == (1, b"push", b"pb")
    event = json.loads(gzip.decompress(fields[8]))
    assert (event["kind"], event["message"]["serverId"]) == ("message", made["server_id"])
    await inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)


async def test_without_a_session_the_socket_is_closed(sim: Sim) -> None:
    _inbox, outbox, task = await _socket(sim, None)
    assert await asyncio.wait_for(outbox.get(), 5) == {"type": "websocket.close", "code": 4401}
    await asyncio.wait_for(task, 5)

"""End-to-end: a worker over a real WebSocket syncs into daphne as a real process (SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from crawler.client import HubClient
from datasync.protocol import BaseFrame, RegisterFrame, dump_frame, parse_frame
from tests.datasync.records import comment, conversation, message, sync_text
from tests.e2e.datasync_support import hub_seed, messages_get, recv, register, stats_get, worker_connect
from tests.support.processes import make_hub

pytestmark = pytest.mark.e2e


def test_worker_sync_is_durable_idempotent_and_survives_a_restart(tmp_path: Path) -> None:
    # given a hub with a worker holding one account
    hub = make_hub(tmp_path, IMHUB_MAX_FRAME_BYTES="200000").start()
    try:
        seed = hub_seed(hub)
        account_id = seed["account_id"]

        # when a wrong token connects, then it is closed with 4401
        with worker_connect(hub, "imw_wrong") as bad, pytest.raises(ConnectionClosed) as closed:
            bad.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401

        with worker_connect(hub, seed["token"]) as ws:
            # when the worker registers, then it gets its assignment
            ack = register(ws)
            assert ack["type"] == "master:register:ack"
            assert [
                (a["account"]["id"], a["epoch"], a["last_seq"]) for a in ack["payload"]["assignments"]
            ] == [(account_id, 1, 0)]

            # when it syncs two frames, then both are acked
            first = sync_text(
                account_id=account_id,
                epoch=1,
                seq=1,
                entities={"comments": [comment(f"k{i}") for i in range(50)]},
            )
            ws.send(first)
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 1}
            ws.send(
                sync_text(
                    account_id=account_id,
                    epoch=1,
                    seq=2,
                    entities={
                        "conversations": [conversation("conv1")],
                        "messages": [message("m1"), message("m2")],
                    },
                )
            )
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 2}

            # when seq 1 is resent, then it is acked at 2 and nothing is duplicated
            ws.send(first)
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 2}

            # when a stale epoch, a gap, bad JSON, an unknown type and an oversized frame arrive
            ws.send(sync_text(account_id=account_id, epoch=0, seq=3, frame_id="stale"))
            stale = recv(ws)
            ws.send(sync_text(account_id=account_id, epoch=1, seq=9, frame_id="gap"))
            gap, resync = recv(ws), recv(ws)
            ws.send("{oops")
            bad_json = recv(ws)
            ws.send('{"type": "worker:fly", "id": "u1", "ts": 1, "payload": {}}')
            unknown = recv(ws)
            huge = [comment(f"h{i}", text="长" * 1000) for i in range(100)]
            ws.send(sync_text(account_id=account_id, epoch=1, seq=3, entities={"comments": huge}))
            too_large = recv(ws)

            # then each gets master:error with its code, and the connection still applies seq 3
            assert [f["payload"]["code"] for f in (stale, gap, bad_json, unknown, too_large)] == [
                "stale_epoch",
                "seq_gap",
                "bad_json",
                "unknown_type",
                "frame_too_large",
            ]
            assert (stale["payload"]["ref"], gap["payload"]["ref"]) == ("stale", "gap")
            assert resync == {**resync, "type": "master:resync", "payload": {"account_id": account_id}}
            ws.send(sync_text(account_id=account_id, epoch=1, seq=3, entities={"comments": [comment("k50")]}))
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 3}

        stats = stats_get(hub, seed["api_token"])
        assert stats["store"]["totals"]["comments"] == 51
        assert stats["store"]["totals"]["messages"] == 2
        assert stats["process"]["frames_applied"] == 3
        assert stats["process"]["frames_duplicate"] == 1
        assert stats["process"]["items_applied"] == 54
        assert stats["process"]["frames_rejected_by_code"] == {
            "stale_epoch": 1,
            "seq_gap": 1,
            "bad_json": 1,
            "unknown_type": 1,
            "frame_too_large": 1,
        }
        assert stats["database"]["entities"]["comments"] == 51

        # when the hub process restarts
        hub.restart()

        # then every acked item is served from the reloaded store, and the seq stands
        after = stats_get(hub, seed["api_token"])
        assert after["store"]["ready"] is True
        assert (after["store"]["totals"]["comments"], after["store"]["totals"]["messages"]) == (51, 2)
        [account] = after["accounts"]
        assert (account["id"], account["last_seq"], account["store"]["comments"]) == (account_id, 3, 51)
        assert messages_get(hub, seed["api_token"], account_id=account_id, conversation_id="conv1") == [
            "m1",
            "m2",
        ]
        assert seed["token"] not in hub.log_path.read_text()
    finally:
        hub.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_20_mb_frame_from_a_worker_is_answered_with_frame_too_large(tmp_path: Path, server: str) -> None:
    # given a hub served by ``server`` and a worker connected through the worker's own client
    hub = make_hub(tmp_path, IMHUB_SERVER=server).start()
    try:
        seed = hub_seed(hub)
        answers: list[dict[str, Any]] = []

        async def scenario() -> None:
            got = asyncio.Event()

            async def on_frame(frame: BaseFrame) -> None:
                answers.append(json.loads(dump_frame(frame)))
                got.set()

            async def on_connect() -> None:
                return None

            client = HubClient(
                hub_url=hub.ws_url, token=seed["token"], on_frame=on_frame, on_connect=on_connect
            )
            runner = asyncio.create_task(client.run())
            try:
                await asyncio.wait_for(client.connected.wait(), 15)
                connects = client.connects
                # when it registers, then sends a sync frame of 20 MB (20x the hub's limit)
                assert await client.send(RegisterFrame.build(worker_id="w1", capabilities=["douyin"]))
                await asyncio.wait_for(got.wait(), 15)
                got.clear()
                huge = [comment(f"h{i}", text="长" * 2000) for i in range(3400)]
                frame = parse_frame(
                    sync_text(account_id=seed["account_id"], epoch=1, seq=1, entities={"comments": huge})
                )
                assert len(dump_frame(frame).encode()) > 20_000_000
                assert await client.send(frame)
                await asyncio.wait_for(got.wait(), 60)
                got.clear()
                # and then a small frame on the same connection
                assert await client.send(
                    parse_frame(
                        sync_text(
                            account_id=seed["account_id"],
                            epoch=1,
                            seq=1,
                            entities={"comments": [comment("k1")]},
                        )
                    )
                )
                await asyncio.wait_for(got.wait(), 15)
                assert client.connects == connects
            finally:
                client.stopping = True
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

        asyncio.run(scenario())

        # then the hub answered the 20 MB frame with an error frame naming the limit, kept the
        # connection and applied the next frame
        assert [a["type"] for a in answers] == ["master:register:ack", "master:error", "worker:data:sync:ack"]
        assert answers[1]["payload"]["code"] == "frame_too_large"
        assert "exceeds the limit of 1000000" in answers[1]["payload"]["message"]
        assert answers[2]["payload"] == {"account_id": seed["account_id"], "seq": 1}
    finally:
        hub.stop()

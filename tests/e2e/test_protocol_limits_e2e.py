"""End-to-end (issue 25 #5): frames over the protocol limits, sent over a real WebSocket to a hub on a
port, each get `master:error` with their code; the connection stays open and nothing of them is applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datasync.protocol.limits import MAX_ECHOED_ID_CHARS, MAX_TEXT_CHARS
from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, stats_get, worker_connect
from tests.support.processes import make_hub

pytestmark = pytest.mark.e2e


def _sync(account_id: int, entities: dict[str, Any], *, seq: int = 1, frame_id: str = "f") -> str:
    payload = {"account_id": account_id, "epoch": 1, "seq": seq, "entities": entities, "deleted": {}}
    return json.dumps({"type": "worker:data:sync", "id": frame_id, "ts": 1, "payload": payload})


def test_frames_over_the_limits_get_error_frames_and_change_nothing(tmp_path: Path) -> None:
    # given a hub that takes frames up to 2 MB and a registered worker with one account
    hub = make_hub(tmp_path, IMHUB_MAX_FRAME_BYTES="2000000").start()
    try:
        seed = hub_seed(hub)
        account_id = seed["account_id"]
        with worker_connect(hub, seed["token"]) as ws:
            assert register(ws)["type"] == "master:register:ack"

            # when the attack frames of the report arrive
            stats = {str(i): {"note": "s" * 1000} for i in range(871)}
            attacks = [
                "[" * 50_000 + "]" * 50_000,
                _sync(account_id, {"comments": [comment("k1")]}, seq=2**70, frame_id="big-int"),
                json.dumps({"type": "worker:heartbeat", "id": "hb", "ts": 1, "payload": {"accounts": stats}}),
                _sync(
                    account_id, {"comments": [comment("k1", text="x" * (MAX_TEXT_CHARS + 1))]}, frame_id="t"
                ),
                _sync(account_id, {"comments": [comment("k1"), comment("k" * 1000)]}, frame_id="two"),
                _sync(account_id, {"comments": [comment("k1")]}, seq=2**70, frame_id="i" * 10_000),
            ]
            answers = []
            for raw in attacks:
                ws.send(raw)
                answers.append(recv(ws))

            # then each is answered with master:error and its code, refs echoed cut
            assert [a["type"] for a in answers] == ["master:error"] * len(attacks)
            assert [a["payload"]["code"] for a in answers] == ["too_deep"] + ["invalid_frame"] * 5
            assert [a["payload"]["ref"] for a in answers[:5]] == [None, "big-int", "hb", "t", "two"]
            assert answers[5]["payload"]["ref"] == "i" * MAX_ECHOED_ID_CHARS

            # and the same connection still applies a valid frame; nothing of the refused ones was stored
            ws.send(sync_text(account_id=account_id, epoch=1, seq=1, entities={"comments": [comment("ok")]}))
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 1}

        after = stats_get(hub, seed["api_token"])
        assert after["store"]["totals"]["comments"] == 1
        assert after["process"]["frames_rejected_by_code"] == {"too_deep": 1, "invalid_frame": 5}
    finally:
        hub.stop()

"""End-to-end: a hub process restarts from its snapshot, and never serves an account staler than the
database: an account written by another process while it was down is read from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, stats_get, worker_connect
from tests.support.processes import Hub, http_json, make_hub

pytestmark = [pytest.mark.e2e]


def _sync(hub: Hub, token: str, *, account_id: int, seq: int, **changes: Any) -> None:
    with worker_connect(hub, token) as ws:
        ack = register(ws)
        assert ack["type"] == "master:register:ack", ack
        [assignment] = ack["payload"]["assignments"]
        ws.send(sync_text(account_id=account_id, epoch=assignment["epoch"], seq=seq, **changes))
        reply = recv(ws)
        assert reply["type"] == "worker:data:sync:ack", reply
        assert reply["payload"] == {"account_id": account_id, "seq": seq}


def _comments(hub: Hub, api_token: str, account_id: int) -> dict[str, str]:
    """comment id -> text, as the IM API serves every comment of the account (unified, all pages)."""
    found: dict[str, str] = {}
    url: str | None = (
        f"{hub.url}/api/im/unified-messages/?account_id={account_id}&types=comments&page_size=100"
    )
    while url:
        status, data = http_json("GET", url, headers={"Authorization": f"Token {api_token}"})
        assert status == 200, data
        for row in data["results"]:
            assert row["id"] not in found, f"{row['id']} served twice"
            found[row["id"]] = row["record"]["text"]
        url = data.get("next")
    return found


def test_a_restarted_hub_loads_from_its_snapshot_and_rereads_accounts_written_while_it_was_down(
    tmp_path: Path,
) -> None:
    # given hub A that acked 30 comments and was stopped (SIGTERM writes its snapshot)
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    hub_a = make_hub(tmp_path / "a", database_url=database)
    hub_a.start()
    try:
        seed = hub_seed(hub_a)
        account_id, token, api_token = seed["account_id"], seed["token"], seed["api_token"]
        _sync(
            hub_a,
            token,
            account_id=account_id,
            seq=1,
            entities={"comments": [comment(f"k{i}") for i in range(30)]},
        )
    finally:
        hub_a.stop()
    assert (tmp_path / "a" / "var" / "datastore.snapshot").exists()

    # when A restarts with nothing changed, the account comes from the snapshot
    hub_a.start()
    try:
        load = stats_get(hub_a, api_token)["store"]["load"]
        assert load["snapshot_accounts"] == 1 and load["database_accounts"] == 0, load
        assert len(_comments(hub_a, api_token, account_id)) == 30
    finally:
        hub_a.stop()

    # when another hub process acks a frame for the account while A is down (an edit, a new comment,
    # a deletion), then A restarts
    hub_b = make_hub(tmp_path / "b", database_url=database, migrate=False)
    hub_b.start()
    try:
        _sync(
            hub_b,
            token,
            account_id=account_id,
            seq=2,
            entities={"comments": [comment("k0", text="改过了"), comment("k30")]},
            deleted={"comments": ["k1"]},
        )
    finally:
        hub_b.stop()
    hub_a.start()
    try:
        # then A read that account from the database: it serves what B acked, each comment once
        load = stats_get(hub_a, api_token)["store"]["load"]
        assert load["snapshot_accounts"] == 0 and load["database_accounts"] == 1, load
        served = _comments(hub_a, api_token, account_id)
        assert sorted(served) == sorted([f"k{i}" for i in range(31) if i != 1])
        assert served["k0"] == "改过了"
    finally:
        hub_a.stop()

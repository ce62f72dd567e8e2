"""Outbox and data manager: durable seq, chunking, ack, realignment, change detection."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.datamanager import DataManager, data_submit
from crawler.outbox import outbox_ack, outbox_align, outbox_append, outbox_open


def record(n: int, text: str = "x") -> dict[str, object]:
    return {"message_id": f"m{n}", "conversation_id": "c", "direction": "in", "text": text, "created_at": n}


def test_seq_increases_across_appends_and_survives_reopening(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    first = outbox_append(outbox=outbox, entities={"messages": [record(1)]})
    outbox.close()

    reopened = outbox_open(data_dir=tmp_path, account_id=1)
    second = outbox_append(outbox=reopened, entities={"messages": [record(2)]})

    assert (first, second) == ([1], [2])
    assert [p.seq for p in reopened.pending()] == [1, 2]


def test_large_change_sets_are_chunked_below_the_limit(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    records = [record(n, text="字" * 200) for n in range(50)]

    seqs = outbox_append(outbox=outbox, entities={"messages": records}, max_bytes=4000)

    bodies = [json.loads(p.body) for p in outbox.pending()]
    assert seqs == list(range(1, len(bodies) + 1))
    assert len(bodies) > 1
    assert all(len(p.body.encode()) < 4000 for p in outbox.pending())
    assert [m["message_id"] for b in bodies for m in b["entities"]["messages"]] == [
        f"m{n}" for n in range(50)
    ]


def test_ack_deletes_only_up_to_the_acked_seq(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    for n in range(3):
        outbox_append(outbox=outbox, entities={"messages": [record(n)]})

    deleted = outbox_ack(outbox=outbox, seq=2)

    assert deleted == 2
    assert [p.seq for p in outbox.pending()] == [3]
    assert outbox.acked_seq == 2


def test_align_in_the_same_epoch_drops_frames_the_hub_applied(tmp_path: Path) -> None:
    # given frames 1..3 queued at epoch 1 and a hub that applied 1..2 (the acks were lost)
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    outbox_align(outbox=outbox, hub_last_seq=0, epoch=1)
    for n in range(3):
        outbox_append(outbox=outbox, entities={"messages": [record(n)]})

    lost = outbox_align(outbox=outbox, hub_last_seq=2, epoch=1)

    assert lost is False
    assert [
        (p.seq, json.loads(p.body)["entities"]["messages"][0]["message_id"]) for p in outbox.pending()
    ] == [(3, "m2")]


def test_align_in_a_new_epoch_resends_everything_pending_after_the_hub(tmp_path: Path) -> None:
    # given frames 1..3 queued at epoch 1; meanwhile another worker brought the hub to seq 10 (epoch 2)
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    outbox_align(outbox=outbox, hub_last_seq=0, epoch=1)
    for n in range(3):
        outbox_append(outbox=outbox, entities={"messages": [record(n)]})

    lost = outbox_align(outbox=outbox, hub_last_seq=10, epoch=3)

    assert lost is False
    assert [p.seq for p in outbox.pending()] == [11, 12, 13]
    assert outbox_append(outbox=outbox, entities={"messages": [record(9)]}) == [14]


def test_align_with_a_hub_behind_its_acks_reports_lost_data_and_forgets_hashes(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    manager = DataManager(outbox=outbox)
    data_submit(manager=manager, kind="messages", records=[record(1)])
    outbox_ack(outbox=outbox, seq=1)

    lost = outbox_align(outbox=outbox, hub_last_seq=0, epoch=1)

    assert lost is True
    assert outbox.hashes(kind="messages") == {}


def test_only_new_or_changed_records_leave(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    manager = DataManager(outbox=outbox)
    data_submit(manager=manager, kind="messages", records=[record(1), record(2)])

    changed = data_submit(
        manager=manager, kind="messages", records=[record(1), record(2, "edited"), record(3)]
    )

    last = json.loads(outbox.pending()[-1].body)["entities"]["messages"]
    assert changed == 2
    assert [(m["message_id"], m["text"]) for m in last] == [("m2", "edited"), ("m3", "x")]


def test_hashes_persist_so_a_restart_does_not_resend(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    data_submit(manager=DataManager(outbox=outbox), kind="messages", records=[record(1)])
    outbox.close()

    reopened = outbox_open(data_dir=tmp_path, account_id=1)
    changed = data_submit(manager=DataManager(outbox=reopened), kind="messages", records=[record(1)])

    assert changed == 0
    assert reopened.depth() == 1


def test_duplicates_within_a_batch_go_out_once(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)

    changed = data_submit(manager=DataManager(outbox=outbox), kind="messages", records=[record(1), record(1)])

    assert changed == 1
    assert len(json.loads(outbox.pending()[0].body)["entities"]["messages"]) == 1


def test_forget_sends_everything_again_as_a_snapshot(tmp_path: Path) -> None:
    outbox = outbox_open(data_dir=tmp_path, account_id=1)
    manager = DataManager(outbox=outbox)
    data_submit(manager=manager, kind="messages", records=[record(1)])
    manager.forget()
    changed = data_submit(manager=manager, kind="messages", records=[record(1)])

    assert changed == 1
    assert [p.mode for p in outbox.pending()] == ["delta", "snapshot"]

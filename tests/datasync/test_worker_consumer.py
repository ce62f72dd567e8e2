"""WorkerConsumer driven through the real ASGI application with WebsocketCommunicator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from accounts.models import Account
from datasync.models import Entity, SyncState
from datasync.protocol import AccountStatusFrame, HeartbeatFrame, LoginStatusFrame, RegisterFrame, dump_frame
from datasync.runtime import runtime
from datasync.stats import stats_process
from imhub.asgi import application
from tests.datasync.conftest import Held
from tests.datasync.records import comment, message, sync_text

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(token: str | None) -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return WebsocketCommunicator(application, "/ws/worker/", headers=headers)


async def _recv(comm: WebsocketCommunicator) -> dict[str, Any]:
    return json.loads(await comm.receive_from(timeout=10))


async def _registered(held: Held) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    comm = _connect(held.token)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    await comm.send_to(text_data=dump_frame(RegisterFrame.build(worker_id="w1", capabilities=["douyin"])))
    return comm, await _recv(comm)


@database_sync_to_async
def _rows(account_id: int) -> list[tuple[str, str]]:
    return sorted(Entity.objects.filter(account_id=account_id).values_list("kind", "platform_id"))


@database_sync_to_async
def _last_seq(account_id: int) -> int:
    return SyncState.objects.get(account_id=account_id).last_seq


async def test_wrong_token_is_closed_with_4401(held: Held) -> None:
    # given a connection with a wrong token
    comm = _connect("imw_not-a-real-token")

    # when it connects
    connected, _ = await comm.connect(timeout=10)
    closed = await comm.receive_output(timeout=10)

    # then the handshake is accepted and closed at once with 4401
    assert connected
    assert closed == {"type": "websocket.close", "code": 4401}
    assert stats_process()["auth_failures"] == 1


async def test_missing_token_is_closed_with_4401(held: Held) -> None:
    # given a connection without an Authorization header
    comm = _connect(None)

    # when it connects
    await comm.connect(timeout=10)
    closed = await comm.receive_output(timeout=10)

    # then it is closed with 4401
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_frames_before_register_are_refused_with_not_registered(held: Held) -> None:
    # given an authenticated connection that has not registered
    comm = _connect(held.token)
    await comm.connect(timeout=10)

    # when it sends a heartbeat
    await comm.send_to(text_data=dump_frame(HeartbeatFrame.build(frame_id="hb-1")))
    reply = await _recv(comm)

    # then it gets not_registered and the connection stays
    assert reply["type"] == "master:error"
    assert reply["payload"] == {
        "ref": "hb-1",
        "code": "not_registered",
        "message": "send worker:register first",
    }
    await comm.disconnect()


async def test_register_acks_with_the_assignment_and_its_last_seq(held: Held) -> None:
    # given the account already applied up to seq 3
    await database_sync_to_async(SyncState.objects.create)(account=held.account, epoch=1, last_seq=3)

    # when the worker registers
    comm, ack = await _registered(held)

    # then the ack carries the account, its epoch and last_seq
    assert ack["type"] == "master:register:ack"
    assert ack["payload"]["heartbeat_interval"] == 10.0
    [assignment] = ack["payload"]["assignments"]
    assert assignment["account"]["id"] == held.account.id
    assert assignment["account"]["platform"] == "douyin"
    assert assignment["epoch"] == 1
    assert assignment["last_seq"] == 3
    await comm.disconnect()


async def test_register_with_another_workers_id_is_refused(held: Held) -> None:
    # given an authenticated connection
    comm = _connect(held.token)
    await comm.connect(timeout=10)

    # when it registers under another worker id
    await comm.send_to(text_data=dump_frame(RegisterFrame.build(frame_id="r-1", worker_id="someone-else")))
    reply = await _recv(comm)

    # then it is refused with worker_mismatch
    assert reply["payload"]["code"] == "worker_mismatch"
    assert reply["payload"]["ref"] == "r-1"
    await comm.disconnect()


async def test_sync_is_applied_stored_and_acked(held: Held) -> None:
    # given a registered worker
    comm, _ = await _registered(held)
    account_id = held.account.id

    # when it sends seq 1 with two comments and a message
    await comm.send_to(
        text_data=sync_text(
            account_id=account_id,
            epoch=1,
            seq=1,
            entities={"comments": [comment("k1"), comment("k2")], "messages": [message("m1")]},
        )
    )
    ack = await _recv(comm)

    # then it is acked, durable, in the store and counted
    assert ack["type"] == "worker:data:sync:ack"
    assert ack["payload"] == {"account_id": account_id, "seq": 1}
    assert await _rows(account_id) == [("comments", "k1"), ("comments", "k2"), ("messages", "m1")]
    assert await _last_seq(account_id) == 1
    await runtime.ensure_ready()
    totals = runtime.store.account_totals(account_id)
    assert (totals["comments"], totals["messages"]) == (2, 1)
    process = stats_process()
    assert (process["frames_applied"], process["items_applied"]) == (1, 3)
    assert process["connected_workers"] == ["w1"]
    await comm.disconnect()


async def test_duplicate_resend_is_acked_again_without_duplicates(held: Held) -> None:
    # given seq 1 applied
    comm, _ = await _registered(held)
    account_id = held.account.id
    text = sync_text(account_id=account_id, epoch=1, seq=1, entities={"comments": [comment("k1")]})
    await comm.send_to(text_data=text)
    await _recv(comm)

    # when the same frame is sent again
    await comm.send_to(text_data=text)
    ack = await _recv(comm)

    # then it is acked with the same seq and nothing is duplicated
    assert ack["payload"] == {"account_id": account_id, "seq": 1}
    assert await _rows(account_id) == [("comments", "k1")]
    assert runtime.store.account_totals(account_id)["comments"] == 1
    assert stats_process()["frames_duplicate"] == 1
    await comm.disconnect()


async def test_stale_epoch_is_refused_and_nothing_is_applied(held: Held) -> None:
    # given the account moved on to epoch 2
    await database_sync_to_async(Account.objects.filter(pk=held.account.pk).update)(epoch=2)
    comm, _ = await _registered(held)

    # when the worker sends a frame of epoch 1
    await comm.send_to(
        text_data=sync_text(
            account_id=held.account.id, epoch=1, seq=1, entities={"comments": [comment("k1")]}, frame_id="f-1"
        )
    )
    reply = await _recv(comm)

    # then it is refused with stale_epoch, and nothing is stored
    assert reply["type"] == "master:error"
    assert (reply["payload"]["ref"], reply["payload"]["code"]) == ("f-1", "stale_epoch")
    assert await _rows(held.account.id) == []
    assert stats_process()["frames_rejected_by_code"] == {"stale_epoch": 1}
    await comm.disconnect()


async def test_seq_gap_is_refused_and_asks_for_a_resync(held: Held) -> None:
    # given a registered worker with nothing applied
    comm, _ = await _registered(held)

    # when it sends seq 3
    await comm.send_to(
        text_data=sync_text(
            account_id=held.account.id, epoch=1, seq=3, entities={"comments": [comment("k1")]}, frame_id="f-3"
        )
    )
    error = await _recv(comm)
    resync = await _recv(comm)

    # then it gets seq_gap and master:resync, and nothing is stored
    assert (error["payload"]["ref"], error["payload"]["code"]) == ("f-3", "seq_gap")
    assert resync["type"] == "master:resync"
    assert resync["payload"] == {"account_id": held.account.id}
    assert await _rows(held.account.id) == []
    await comm.disconnect()


async def test_unknown_account_is_refused(held: Held) -> None:
    # given a registered worker
    comm, _ = await _registered(held)

    # when it syncs an account that does not exist
    await comm.send_to(text_data=sync_text(account_id=999_999, epoch=1, seq=1, frame_id="f-x"))
    reply = await _recv(comm)

    # then it is refused with unknown_account
    assert (reply["payload"]["ref"], reply["payload"]["code"]) == ("f-x", "unknown_account")
    await comm.disconnect()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "bad_json"),
        ('{"type": "worker:dance", "id": "x1", "ts": 1, "payload": {}}', "unknown_type"),
        (
            '{"type": "worker:data:sync", "id": "x2", "ts": 1, "payload": {"account_id": "1"}}',
            "invalid_frame",
        ),
    ],
)
async def test_bad_frames_get_master_error_and_the_connection_stays(held: Held, text: str, code: str) -> None:
    # given a registered worker
    comm, _ = await _registered(held)

    # when it sends a bad frame, then a good one
    await comm.send_to(text_data=text)
    reply = await _recv(comm)
    await comm.send_to(
        text_data=sync_text(
            account_id=held.account.id, epoch=1, seq=1, entities={"comments": [comment("k1")]}
        )
    )
    ack = await _recv(comm)

    # then the bad one is refused with its code and the good one is applied on the same connection
    assert reply["type"] == "master:error"
    assert reply["payload"]["code"] == code
    assert ack["payload"] == {"account_id": held.account.id, "seq": 1}
    assert stats_process()["frames_rejected_by_code"] == {code: 1}
    await comm.disconnect()


async def test_oversized_frame_is_refused(held: Held, settings: Any) -> None:
    # given a small frame limit
    settings.IMHUB_MAX_FRAME_BYTES = 2000
    comm, _ = await _registered(held)

    # when a frame above it arrives
    big = [comment(f"k{i}", text="长" * 100) for i in range(20)]
    await comm.send_to(
        text_data=sync_text(account_id=held.account.id, epoch=1, seq=1, entities={"comments": big})
    )
    reply = await _recv(comm)

    # then it is refused and nothing is stored
    assert reply["payload"]["code"] == "frame_too_large"
    assert await _rows(held.account.id) == []
    await comm.disconnect()


async def test_commands_from_the_channel_layer_go_down_as_hub_frames(held: Held) -> None:
    # given a registered worker with seq 2 applied
    await database_sync_to_async(SyncState.objects.create)(account=held.account, epoch=1, last_seq=2)
    comm, _ = await _registered(held)
    from accounts.commands import worker_group

    layer = get_channel_layer()

    # when the hub sends assign, revoke and resync commands to its group
    for command in (
        {"name": "assign", "account_id": held.account.id, "epoch": 1},
        {"name": "revoke", "account_id": held.account.id, "epoch": 1},
        {"name": "resync", "account_id": held.account.id},
    ):
        await layer.group_send(worker_group("w1"), {"type": "worker.command", "command": command})
    assign, revoke, resync = await _recv(comm), await _recv(comm), await _recv(comm)

    # then the worker gets the frames, the assignment with where its seq stands
    assert assign["type"] == "master:task:assign"
    assert assign["payload"]["assignment"]["account"]["id"] == held.account.id
    assert assign["payload"]["assignment"]["last_seq"] == 2
    assert revoke["type"] == "master:task:revoke"
    assert revoke["payload"] == {"account_id": held.account.id, "epoch": 1}
    assert resync["payload"] == {"account_id": held.account.id}
    await comm.disconnect()


async def test_a_command_no_wiring_knows_is_dropped_and_logged(
    held: Held, caplog: pytest.LogCaptureFixture
) -> None:
    # given a registered worker
    comm, _ = await _registered(held)
    from accounts.commands import ResyncCommand, worker_group

    layer = get_channel_layer()
    # when an unknown command, then a known one, reach its group
    unknown = {"name": "reboot", "account_id": held.account.id}
    await layer.group_send(worker_group("w1"), {"type": "worker.command", "command": unknown})
    known = ResyncCommand(account_id=held.account.id).as_message()
    await layer.group_send(worker_group("w1"), {"type": "worker.command", "command": known})

    # then only the known one becomes a frame, and the unknown one is logged with its account
    assert (await _recv(comm))["type"] == "master:resync"
    assert f"unknown worker command 'reboot' dropped: account_id={held.account.id}" in caplog.text
    await comm.disconnect()


async def test_an_unexpected_handler_failure_is_internal_error_and_the_connection_stays(
    held: Held, rewire: Callable[..., None]
) -> None:
    # given a registered worker and a heartbeat handler that blows up
    comm, _ = await _registered(held)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    rewire(frame_handlers={**runtime.wiring.frame_handlers, "worker:heartbeat": broken})

    # when a heartbeat arrives, then a sync
    await comm.send_to(text_data=dump_frame(HeartbeatFrame.build(frame_id="hb-9")))
    reply = await _recv(comm)
    await comm.send_to(
        text_data=sync_text(
            account_id=held.account.id, epoch=1, seq=1, entities={"comments": [comment("k1")]}
        )
    )
    ack = await _recv(comm)

    # then the heartbeat gets internal_error and the sync is still applied
    assert reply["payload"] == {
        "ref": "hb-9",
        "code": "internal_error",
        "message": "internal error; the frame was not applied",
    }
    assert ack["payload"] == {"account_id": held.account.id, "seq": 1}


async def test_account_status_is_stored_on_the_account(held: Held) -> None:
    # given a registered worker
    comm, _ = await _registered(held)

    # when it reports the account logged in but failing, then a sync (acked after it)
    await comm.send_to(
        text_data=dump_frame(
            AccountStatusFrame.build(
                account_id=held.account.id,
                epoch=1,
                login_status="logged_in",
                runner_status="backoff",
                last_error="comment list: status_code 8",
            )
        )
    )
    await comm.send_to(
        text_data=sync_text(
            account_id=held.account.id, epoch=1, seq=1, entities={"comments": [comment("k1")]}
        )
    )
    await _recv(comm)

    # then the account row carries it
    account = await database_sync_to_async(Account.objects.get)(pk=held.account.pk)
    assert (account.login_status, account.runner_status, account.last_error) == (
        "logged_in",
        "backoff",
        "comment list: status_code 8",
    )
    await comm.disconnect()


async def test_login_status_updates_the_session_and_an_unknown_session_is_refused(held: Held) -> None:
    # given the worker registered and a QR login started for its account
    from accounts.services import login_start

    comm, _ = await _registered(held)
    session = await database_sync_to_async(login_start)(account=held.account)
    start = await _recv(comm)
    assert start["type"] == "master:login:start"

    # when the worker reports the QR code scanned, then a status for a session that does not exist
    await comm.send_to(
        text_data=dump_frame(
            LoginStatusFrame.build(session_id=str(session.id), account_id=held.account.id, status="scanned")
        )
    )
    await comm.send_to(
        text_data=dump_frame(
            LoginStatusFrame.build(
                frame_id="ls-x",
                session_id="00000000-0000-0000-0000-000000000000",
                account_id=held.account.id,
                status="scanned",
            )
        )
    )
    reply = await _recv(comm)

    # then the session is updated and the unknown one is refused with its code
    assert (reply["payload"]["ref"], reply["payload"]["code"]) == ("ls-x", "unknown_session")
    status = await database_sync_to_async(
        lambda: type(session).objects.values_list("status", flat=True).get(pk=session.pk)
    )()
    assert status == "scanned"
    await comm.disconnect()


async def test_a_burst_of_big_sync_frames_is_answered_in_order_each_ack_after_its_store_change(
    held: Held,
) -> None:
    # given a registered worker and six big frames (parsed in chunks, prepared and committed while
    # the previous frame is published), with a frame that skips a seq in the middle
    comm, _ = await _registered(held)
    account_id = held.account.id
    await runtime.ensure_ready()

    def frame(seq: int, frame_id: str) -> str:
        records = [comment(f"s{seq}-{i}", text="长" * 200) for i in range(120)]
        return sync_text(
            account_id=account_id, epoch=1, seq=seq, entities={"comments": records}, frame_id=frame_id
        )

    texts = [frame(1, "f1"), frame(2, "f2"), frame(3, "f3"), frame(9, "f9"), frame(4, "f4"), frame(5, "f5")]
    assert all(len(t) > 32_768 for t in texts)

    # when they are sent back to back, without waiting for answers
    for text in texts:
        await comm.send_to(text_data=text)

    # then the answers come in frame order, and when an ack arrives its frame is in the store
    answers: list[tuple[Any, ...]] = []
    for _ in range(7):
        reply = await _recv(comm)
        if reply["type"] == "worker:data:sync:ack":
            seq = reply["payload"]["seq"]
            assert runtime.store.account_totals(account_id)["comments"] >= 120 * seq
            answers.append(("ack", seq))
        elif reply["type"] == "master:error":
            answers.append(("error", reply["payload"]["ref"], reply["payload"]["code"]))
        else:
            answers.append((reply["type"],))
    assert answers == [
        ("ack", 1),
        ("ack", 2),
        ("ack", 3),
        ("error", "f9", "seq_gap"),
        ("master:resync",),
        ("ack", 4),
        ("ack", 5),
    ]
    assert runtime.store.account_totals(account_id)["comments"] == 600
    assert len(await _rows(account_id)) == 600
    assert await _last_seq(account_id) == 5
    await comm.disconnect()

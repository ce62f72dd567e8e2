"""Worker runtime against a small fake hub (a real `websockets` server on a port): waiting for a hub
that is down at start, registration, resending unacked sync frames after a reconnect, status reports.
The adapter and browser pool are stand-ins; the real ones are proven by tests/e2e/test_crawler_*.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from crawler.client import backoff_delay
from crawler.platforms import register_adapter
from crawler.worker import Worker
from datasync.protocol import (
    DataSyncAckFrame,
    Profile,
    RegisterAckFrame,
    ResyncFrame,
    TaskRevokeFrame,
    dump_frame,
    parse_frame,
)
from tests.support.processes import free_port


class FakePool:
    context_count = 0

    async def context_get(self, *, account_id: int) -> object:
        return object()

    async def context_close(self, *, account_id: int) -> None:
        return None

    def storage_state_load(self, account_id: int) -> None:
        return None

    def storage_state_store(self, account_id: int, state: Any) -> None:
        return None

    async def close(self) -> None:
        return None


class FakeAdapter:
    """Yields three batches once (one message each), then nothing new."""

    name = "fake"

    async def login_check(self, *, context: object) -> Profile:
        return Profile(platform_user_id="u1", nickname="fake")

    async def crawl(
        self, *, context: object, memory: object
    ) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
        for n in range(3):
            yield (
                "messages",
                [{"message_id": f"m{n}", "conversation_id": "c", "direction": "in", "created_at": n}],
            )


register_adapter("fake", FakeAdapter)


def assignment(last_seq: int) -> dict[str, Any]:
    return {
        "account": {"id": 7, "platform": "fake", "monitor_interval": 3600},
        "epoch": 1,
        "last_seq": last_seq,
    }


async def run_fake_hub(port: int, log: list[tuple[int, str, Any]]) -> Any:
    """Connection 1: ack only seq 1 and drop the socket; connection 2: realign at last_seq 1, ack all."""
    connection = 0
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        nonlocal connection
        connection += 1
        mine = connection
        async for raw in ws:
            frame = parse_frame(raw)
            payload = frame.payload
            log.append((mine, frame.type, getattr(payload, "seq", None)))  # type: ignore[attr-defined]
            if frame.type == "worker:register":  # type: ignore[attr-defined]
                ack = RegisterAckFrame.build(
                    heartbeat_interval=30, assignments=[assignment(0 if mine == 1 else 1)]
                )
                await ws.send(dump_frame(ack))
            elif frame.type == "worker:data:sync":  # type: ignore[attr-defined]
                if mine == 1:
                    if payload.seq == 1:
                        await ws.send(dump_frame(DataSyncAckFrame.build(account_id=7, seq=1)))
                    else:
                        await ws.close()
                        return
                else:
                    await ws.send(dump_frame(DataSyncAckFrame.build(account_id=7, seq=payload.seq)))
                    if payload.seq == 3:
                        done.set()

    return serve(handler, "127.0.0.1", port), done


def test_worker_waits_for_the_hub_and_resends_unacked_frames_after_a_reconnect(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[tuple[int, str, Any]], int]:
        port = free_port()
        worker = Worker(
            worker_id="w1",
            hub_url=f"ws://127.0.0.1:{port}",
            token="secret-token",
            data_dir=tmp_path,
            pool=FakePool(),  # type: ignore[arg-type]
            platforms=("fake",),
        )
        # given a worker started while no hub listens
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(1.0)
        refused_attempts = worker.client.connects
        # when the hub comes up, acks seq 1, drops the socket, and then realigns at last_seq 1
        log: list[tuple[int, str, Any]] = []
        server, done = await run_fake_hub(port, log)
        async with server:
            await asyncio.wait_for(done.wait(), timeout=60)
        depth = worker.outbox_depth()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return log, refused_attempts * 100 + depth

    log, combined = asyncio.run(scenario())

    # then nothing was lost: seqs 2 and 3 were sent again on the new connection, and the outbox is empty
    syncs = [(c, seq) for c, kind, seq in log if kind == "worker:data:sync"]
    assert combined == 0  # no connection before the hub existed, and nothing left in the outbox
    assert [seq for c, seq in syncs if c >= 2] == [2, 3]
    assert [seq for c, seq in syncs if c == 1][:2] == [1, 2]
    assert next(kind for c, kind, _ in log if c == 1) == "worker:register"


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    delays = [backoff_delay(attempt=n, base=1.0, cap=8.0) for n in range(6)]
    assert all(0.5 * min(8.0, 2**n) <= d <= min(8.0, 2**n) for n, d in enumerate(delays))
    assert max(delays) <= 8.0


def test_status_frames_and_heartbeat_rows_carry_the_runner_state() -> None:
    from crawler.management.commands.runworker_crawler import status_lines

    worker = Worker(worker_id="w9", hub_url="ws://127.0.0.1:1", token="t", data_dir=Path("/tmp"))
    assert status_lines(worker) == ["worker w9: waiting for hub, 0 accounts, outbox 0"]
    assert json.dumps(worker.account_rows()) == "[]"


def test_resync_resends_everything_as_a_snapshot_and_revoke_stops_the_account(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[tuple[int, str, Any]], list[str], bool]:
        port = free_port()
        log: list[tuple[int, str, Any]] = []
        modes: list[str] = []
        done = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            async for raw in ws:
                frame = parse_frame(raw)
                payload = frame.payload
                log.append((1, frame.type, getattr(payload, "seq", None)))  # type: ignore[attr-defined]
                if frame.type == "worker:register":  # type: ignore[attr-defined]
                    ack = RegisterAckFrame.build(heartbeat_interval=30, assignments=[assignment(0)])
                    await ws.send(dump_frame(ack))
                elif frame.type == "worker:data:sync":  # type: ignore[attr-defined]
                    modes.append(payload.mode)
                    await ws.send(dump_frame(DataSyncAckFrame.build(account_id=7, seq=payload.seq)))
                    if payload.seq == 3:  # given the first crawl delivered, when the hub asks for a resync
                        await ws.send(dump_frame(ResyncFrame.build(account_id=7)))
                    if payload.seq == 6:  # then, once the snapshot is in, the hub revokes the account
                        await ws.send(dump_frame(TaskRevokeFrame.build(account_id=7, epoch=1)))
                        done.set()

        worker = Worker(
            worker_id="w1",
            hub_url=f"ws://127.0.0.1:{port}",
            token="t",
            data_dir=tmp_path,
            pool=FakePool(),  # type: ignore[arg-type]
            platforms=("fake",),
        )
        task = asyncio.create_task(worker.run())
        async with serve(handler, "127.0.0.1", port):
            await asyncio.wait_for(done.wait(), timeout=30)
            while 7 in worker.runners:
                await asyncio.sleep(0.01)
            revoked = 7 not in worker.runners
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return log, modes, revoked

    log, modes, revoked = asyncio.run(scenario())

    assert [seq for _, kind, seq in log if kind == "worker:data:sync"] == [1, 2, 3, 4, 5, 6]
    assert modes == ["delta"] * 3 + ["snapshot"] * 3
    assert revoked is True


def test_one_reply_result_builder_for_sent_and_failed_replies() -> None:
    from crawler.errors import ReplyFailed
    from crawler.worker import reply_result_frame
    from datasync.protocol import Message

    sent = reply_result_frame(
        reply_id="r1",
        entity=Message(message_id="m9", conversation_id="c", direction="out", text="hi", created_at=1),
    )
    refused = reply_result_frame(reply_id="r2", error=ReplyFailed("作品已设为私密", code="platform_2060"))
    crashed = reply_result_frame(reply_id="r3", error=RuntimeError("page crashed"))
    assert isinstance(sent.payload.entity, Message)

    assert (sent.payload.status, sent.payload.platform_reply_id, sent.payload.entity.message_id) == (
        "sent",
        "m9",
        "m9",
    )
    assert (refused.payload.status, refused.payload.error_code, refused.payload.error_message) == (
        "failed",
        "platform_2060",
        "作品已设为私密",
    )
    assert (crashed.payload.error_code, crashed.payload.error_message) == ("internal_error", "page crashed")

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


def test_reply_results_sent_failed_and_unknown() -> None:
    from crawler.errors import ReplyThrottled, ReplyUnknown
    from crawler.worker import reply_result_frame

    unknown = reply_result_frame(reply_id="r4", error=ReplyUnknown("no answer in 15 s", code="no_answer"))
    throttled = reply_result_frame(
        reply_id="r5", error=ReplyThrottled("评论失败，请稍后重试 (status_code 8)")
    )
    accepted_blind = reply_result_frame(reply_id="r6")
    assert (unknown.payload.status, unknown.payload.error_code) == ("unknown", "no_answer")
    assert (throttled.payload.status, throttled.payload.error_code) == ("failed", "throttled")
    assert (accepted_blind.payload.status, accepted_blind.payload.platform_reply_id) == ("sent", None)


class ReplyAdapter(FakeAdapter):
    """Replies by script (the text says what happens); `reply_find` finds "在途" in its thread."""

    name = "fakereply"

    async def crawl(self, *, context: object, memory: object) -> AsyncIterator[tuple[str, list[Any]]]:
        return
        yield  # an async generator that yields nothing

    async def reply_send(self, *, context: object, job: Any) -> Any:
        from crawler.errors import ReplyThrottled
        from datasync.protocol import Message

        if job.text == "throttle":
            raise ReplyThrottled("评论失败，请稍后重试 (status_code 8)")
        await job.posting_mark()
        if job.text == "crash":
            raise RuntimeError("page crashed")
        return Message(message_id="m-ok", conversation_id="c", direction="out", text=job.text, created_at=1)

    async def reply_find(self, *, context: object, target: Any, text: str, since: int) -> Any:
        from datasync.protocol import Message

        if text != "在途":
            return None
        return Message(
            message_id="m-found", conversation_id="c", direction="out", text=text, created_at=since
        )


register_adapter("fakereply", ReplyAdapter)


def _request(reply_id: str, text: str) -> Any:
    from datasync.protocol.frames import ReplyRequestPayload

    return ReplyRequestPayload.model_validate(
        {
            "reply_id": reply_id,
            "account_id": 7,
            "target": {"kind": "message", "conversation_id": "c"},
            "text": text,
        }
    )


def test_replies_are_journaled_and_a_restarted_worker_settles_each_one(tmp_path: Path) -> None:
    from crawler.outbox import outbox_open
    from crawler.replyjournal import journal_done, journal_entries, journal_posting, journal_received
    from crawler.worker import reply_result_frame
    from datasync.protocol import ReplyRequestFrame

    # given a worker that died with three replies in its journal: one taken but never posted, one
    # posted without a result, one whose result never went out
    outbox = outbox_open(data_dir=tmp_path, account_id=7)
    journal_received(outbox=outbox, request=_request("r-never", "没发出"))
    journal_received(outbox=outbox, request=_request("r-posted", "在途"))
    journal_posting(outbox=outbox, reply_id="r-posted")
    journal_received(outbox=outbox, request=_request("r-done", "好的"))
    journal_done(outbox=outbox, result=reply_result_frame(reply_id="r-done", error=RuntimeError("x")).payload)
    outbox.close()

    async def scenario() -> tuple[dict[str, Any], Any, list[Any]]:
        port = free_port()
        results: dict[str, Any] = {}
        statuses: list[Any] = []
        done = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            async for raw in ws:
                frame = parse_frame(raw)
                kind = frame.type  # type: ignore[attr-defined]
                if kind == "worker:register":
                    fake = {
                        "account": {"id": 7, "platform": "fakereply", "monitor_interval": 3600},
                        "epoch": 1,
                    }
                    await ws.send(
                        dump_frame(RegisterAckFrame.build(heartbeat_interval=30, assignments=[fake]))
                    )
                elif kind == "worker:account:status":
                    statuses.append(frame.payload)
                elif kind == "worker:reply:result":
                    results[frame.payload.reply_id] = frame.payload
                    # when new requests come: a throttled one, then one during the hold
                    if set(results) == {"r-never", "r-posted", "r-done"}:
                        request = _request("r-throttle", "throttle")
                        await ws.send(dump_frame(ReplyRequestFrame.build(**request.model_dump())))
                    elif frame.payload.reply_id == "r-throttle":
                        request = _request("r-held", "ok")
                        await ws.send(dump_frame(ReplyRequestFrame.build(**request.model_dump())))
                    elif frame.payload.reply_id == "r-held":
                        done.set()

        worker = Worker(
            worker_id="w1",
            hub_url=f"ws://127.0.0.1:{port}",
            token="t",
            data_dir=tmp_path,
            pool=FakePool(),  # type: ignore[arg-type]
            platforms=("fakereply",),
        )
        task = asyncio.create_task(worker.run())
        async with serve(handler, "127.0.0.1", port):
            await asyncio.wait_for(done.wait(), timeout=30)
        left = journal_entries(outbox=worker.outboxes[7])
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return results, statuses, left

    results, statuses, left = asyncio.run(scenario())

    # then each journaled reply is settled: never posted -> failed, posted -> found in its thread, and
    # the stored result sent again
    assert (results["r-never"].status, results["r-never"].error_code) == ("failed", "worker_restarted")
    assert (results["r-posted"].status, results["r-posted"].platform_reply_id) == ("sent", "m-found")
    assert (results["r-done"].status, results["r-done"].error_code) == ("failed", "internal_error")
    # and a refusal with a risk signal is failed/throttled and holds the account: the next reply is not posted
    assert (results["r-throttle"].status, results["r-throttle"].error_code) == ("failed", "throttled")
    assert (results["r-held"].status, results["r-held"].error_code) == ("failed", "on_hold")
    assert any(s.runner_status == "cooldown" and s.last_error.startswith("risk: 评论失败") for s in statuses)
    assert left == []  # every result went out, nothing stays journaled


def test_an_error_after_send_was_pressed_is_unknown_not_failed(tmp_path: Path) -> None:
    async def scenario() -> Any:
        worker = Worker(
            worker_id="w1",
            hub_url="ws://127.0.0.1:1",
            token="t",
            data_dir=tmp_path,
            pool=FakePool(),  # type: ignore[arg-type]
            platforms=("fakereply",),
        )
        from crawler.outbox import outbox_open
        from crawler.runner import AccountRunner
        from datasync.protocol import AssignmentAccount

        outbox = outbox_open(data_dir=tmp_path, account_id=7)
        runner = AccountRunner(
            account=AssignmentAccount(id=7, platform="fakereply"),
            epoch=1,
            pool=worker.pool,
            adapter=ReplyAdapter(),  # type: ignore[arg-type]
            manager=None,  # type: ignore[arg-type]
            host=worker,
        )
        return await worker.reply_perform(runner, outbox, _request("r-crash", "crash"))

    frame = asyncio.run(scenario())
    assert (frame.payload.status, frame.payload.error_code) == ("unknown", "interrupted")
    assert frame.payload.error_message == "after send was pressed: page crashed"

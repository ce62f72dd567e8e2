"""A second platform is a folder: the test-only "fakelist" adapter (tests/crawler/fakeplatform/),
registered through the worker's own registry, runs through the real worker, runner, data manager,
outbox and browser pool, with Chromium driving its one page; a fake hub (a real WebSocket server)
receives what it sends.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from crawler.browser_path import chromium_executable
from crawler.platforms import ADAPTERS, adapter_get
from crawler.worker import Worker
from datasync.protocol import (
    DataSyncAckFrame,
    RegisterAckFrame,
    ReplyRequestFrame,
    dump_frame,
    parse_frame,
)
from tests.crawler.fakeplatform import adapter as fakelist
from tests.crawler.fakeplatform.server import serving
from tests.support.processes import free_port

pytestmark = pytest.mark.browser

NOTES = [{"id": f"n{i}", "text": f"note {i}", "at": 1_700_000_000_000 + i} for i in range(3)]


def test_the_registry_finds_douyin_by_its_folder_and_fakelist_by_registration() -> None:
    assert type(adapter_get(platform="douyin")).__name__ == "DouyinAdapter"
    assert ADAPTERS["fakelist"] is fakelist.FakeListAdapter
    with pytest.raises(KeyError, match="no crawler adapter for platform 'nowhere'"):
        adapter_get(platform="nowhere")


def test_a_second_platform_runs_through_the_real_worker_runner_and_outbox(tmp_path: Path) -> None:
    if chromium_executable() is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")

    async def scenario(base_url: str) -> tuple[list[dict[str, Any]], list[Any], list[Any], int]:
        port = free_port()
        synced: list[dict[str, Any]] = []
        statuses: list[Any] = []
        results: list[Any] = []
        done = asyncio.Event()

        async def hub(ws: ServerConnection) -> None:
            async for raw in ws:
                frame = parse_frame(raw)
                kind, payload = frame.type, frame.payload  # type: ignore[attr-defined]
                if kind == "worker:register":
                    assignment = {"account": {"id": 5, "platform": "fakelist", "monitor_interval": 3600}}
                    await ws.send(
                        dump_frame(
                            RegisterAckFrame.build(
                                heartbeat_interval=30, assignments=[{**assignment, "epoch": 1, "last_seq": 0}]
                            )
                        )
                    )
                elif kind == "worker:account:status":
                    statuses.append((payload.login_status, payload.runner_status))
                elif kind == "worker:data:sync":
                    synced.extend(m.model_dump() for m in payload.entities.messages)
                    await ws.send(dump_frame(DataSyncAckFrame.build(account_id=5, seq=payload.seq)))
                    if len(synced) == len(NOTES):
                        request = ReplyRequestFrame.build(
                            reply_id="r1",
                            account_id=5,
                            target={"kind": "message", "conversation_id": "notes"},
                            text="hi",
                        )
                        await ws.send(dump_frame(request))
                elif kind == "worker:reply:result":
                    results.append(payload)
                    done.set()

        # given the fake platform's adapter pointed at its site, and a worker that runs only it
        fakelist.FakeListAdapter.base_url = base_url
        worker = Worker(
            worker_id="w1",
            hub_url=f"ws://127.0.0.1:{port}",
            token="t",
            data_dir=tmp_path,
            platforms=("fakelist",),
        )
        async with serve(hub, "127.0.0.1", port):
            # when the hub assigns it an account of that platform (and later asks for a reply)
            task = asyncio.create_task(worker.run())
            await asyncio.wait_for(done.wait(), timeout=120)
            depth = worker.outbox_depth()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return synced, statuses, results, depth

    with serving(NOTES) as base_url:
        synced, statuses, results, depth = asyncio.run(scenario(base_url))

    # then the page's notes reached the hub as records, acked out of the durable outbox
    assert sorted(m["message_id"] for m in synced) == ["n0", "n1", "n2"]
    assert {m["text"] for m in synced} == {"note 0", "note 1", "note 2"}
    assert depth == 0
    assert ("logged_in", "crawling") in statuses
    # and the reply went through the worker's one reply-result builder with the adapter's error code
    [result] = results
    assert (result.status, result.error_code, result.error_message) == (
        "failed",
        "unsupported",
        "the fake platform takes no replies",
    )

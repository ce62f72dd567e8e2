"""Ingest benchmark: a synthetic worker pushes deltas over a real WebSocket to a real hub process.

`ingest_run` starts a hub (SQLite in a temporary directory unless a URL is given), seeds a worker and
an account through `manage.py shell`, streams N comment records in frames of B items with at most W
unacked frames in flight, and measures items/s from the first send to the last ack (an ack means the
frame is durably applied). `store_memory_per_item` loads N records into a DataStore under tracemalloc.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.hubs import bench_env, shell_json
from datasync.protocol import DataSyncFrame, HeartbeatFrame, RegisterFrame, dump_frame
from imhub.processes import HOST, free_port, hub_start

SEED = """
import json
from accounts.models import Account, Worker
worker = Worker(worker_id="bench-worker", capacity=10, platforms=["douyin"])
token = worker.issue_token()
worker.save()
account = Account.objects.create(nickname="bench", platform="douyin", worker=worker, epoch=1)
print(json.dumps({"token": token, "account_id": account.id}))
"""


@dataclass
class IngestResult:
    items: int
    frames: int
    batch: int
    window: int
    seconds: float
    database: str

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def comment_record(i: int) -> dict[str, Any]:
    """A realistic comment: Chinese text, an author, times in epoch ms."""
    return {
        "comment_id": f"7301{i:015d}",
        "content_id": f"7298{i % 50:015d}",
        "parent_id": None,
        "author": {
            "id": f"71{i % 5000:09d}",
            "sec_uid": f"MS4wLjABAAAA{i % 5000:08d}",
            "nickname": f"用户{i % 5000}",
            "avatar_url": f"https://p3.douyinpic.com/aweme/100x100/{i % 5000}.jpeg",
        },
        "text": f"这个视频太好看了，第{i}条评论 😍",
        "created_at": 1_764_000_000_000 + i * 1000,
        "likes": i % 17,
        "reply_count": 0,
        "is_author": False,
        "reply_to": None,
        "ip_label": "浙江",
    }


def hub_seed(env: dict[str, str]) -> dict[str, Any]:
    return dict(shell_json(env=env, code=SEED))


async def push(
    *, url: str, token: str, account_id: int, items: int, batch: int, window: int
) -> tuple[int, float]:
    """Send `items` comments in frames of `batch` with at most `window` unacked frames; returns (frames, s)."""
    from websockets.asyncio.client import connect

    frames = [
        dump_frame(
            DataSyncFrame.build(
                account_id=account_id,
                epoch=1,
                seq=seq,
                entities={"comments": [comment_record(i) for i in range(start, min(start + batch, items))]},
            )
        )
        for seq, start in enumerate(range(0, items, batch), start=1)
    ]
    async with connect(
        f"{url}/ws/worker/", additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as ws:
        await ws.send(dump_frame(RegisterFrame.build(worker_id="bench-worker", capabilities=["douyin"])))
        ack = json.loads(await ws.recv())
        if ack["type"] != "master:register:ack":
            raise RuntimeError(f"register refused: {ack}")
        # heartbeats as a real worker sends them: a silent worker loses its accounts (new epoch)
        interval = float(ack["payload"]["heartbeat_interval"]) / 2
        started = last_beat = time.perf_counter()
        sent = acked = 0
        while acked < len(frames):
            if time.perf_counter() - last_beat > interval:
                await ws.send(dump_frame(HeartbeatFrame.build(active_accounts=1)))
                last_beat = time.perf_counter()
            while sent < len(frames) and sent - acked < window:
                await ws.send(frames[sent])
                sent += 1
            reply = json.loads(await ws.recv())
            if reply["type"] != "worker:data:sync:ack":
                raise RuntimeError(f"unexpected reply: {reply}")
            acked = max(acked, reply["payload"]["seq"])
        return len(frames), time.perf_counter() - started


def ingest_run(*, items: int, batch: int, window: int, database_url: str | None = None) -> IngestResult:
    """Run the ingest against a fresh hub (start-up over many rows: `bench/startup.py`)."""
    with tempfile.TemporaryDirectory(prefix="imhub-bench-") as tmp:
        workdir = Path(tmp)
        env = bench_env(database_url=database_url, workdir=workdir)
        port = free_port()
        hub = hub_start(port=port, env=env, log_path=workdir / "hub.log")  # the default server
        try:
            seed = hub_seed(env)
            frames, seconds = asyncio.run(
                push(
                    url=f"ws://{HOST}:{port}",
                    token=seed["token"],
                    account_id=seed["account_id"],
                    items=items,
                    batch=batch,
                    window=window,
                )
            )
        finally:
            hub.stop(timeout=20)
        database = "postgresql" if database_url and database_url.startswith("postgres") else "sqlite"
        return IngestResult(
            items=items, frames=frames, batch=batch, window=window, seconds=seconds, database=database
        )


def store_memory_per_item(*, items: int, chunk: int = 1000) -> dict[str, float]:
    """Bytes the DataStore holds per comment, total and beyond the record's own text fields."""
    from datasync.store import Change, DataStore

    records = [comment_record(i) for i in range(items)]
    text_bytes = sum(sys.getsizeof(r["text"]) + sys.getsizeof(r["author"]["nickname"]) for r in records)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = DataStore()
    for start in range(0, items, chunk):
        store.apply_change(Change(account_id=1, upserts={"comments": records[start : start + chunk]}))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    total = (after - before) / items
    return {
        "bytes_per_item": round(total, 1),
        "bytes_per_item_beyond_text": round(total - text_bytes / items, 1),
    }


SERVICE = """
import json, os, time
from django.db import connection
from accounts.models import Account, Worker
from bench.ingest import comment_record
from datasync.handlers import WorkerSession, frame_stage
from datasync.protocol import DataSyncFrame, dump_frame, parse_frame
from datasync.runtime import runtime
frames, batch = {frames}, {batch}
worker = Worker(worker_id="svc-worker", capacity=10, platforms=["douyin"])
worker.issue_token()
worker.save()
account = Account.objects.create(nickname="svc", platform="douyin", worker=worker, epoch=1)
session = WorkerSession(worker=worker, registered=True)
# the runtime serving as in a hub process (its loop in a thread): frames go to the store and out
import asyncio, threading
loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()
asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(timeout=60)
runtime.wait_ready()
texts = [
    dump_frame(DataSyncFrame.build(account_id=account.id, epoch=1, seq=n + 1,
        entities={{"comments": [comment_record(n * batch + i) for i in range(batch)]}}, deleted={{}}))
    for n in range(frames)
]
def backend_cpu():
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
def run(texts):
    wall, cpu, server = time.perf_counter(), time.process_time(), backend_cpu()
    for text in texts:
        frame_stage(session=session, frame=parse_frame(text)).publish_run()
    return time.perf_counter() - wall, time.process_time() - cpu, backend_cpu() - server
run(texts[:2])  # warm: first statements, connection set-up
wall, cpu, server = run(texts[2:])
n = (frames - 2) * batch
assert runtime.store.account_totals(account.id)["comments"] == frames * batch, "the store missed frames"
print(json.dumps({{"vendor": connection.vendor, "items": n, "wall_us": wall / n * 1e6, "hub_cpu_us": cpu / n * 1e6,
                   "db_cpu_us": server / n * 1e6}}))
"""


def ingest_service_time(*, database_url: str | None, frames: int = 42, batch: int = 500) -> dict[str, Any]:
    """Per item, in one process (no socket): wall time, the hub's CPU time and the PostgreSQL backend's
    CPU time of parsing and durably applying sync frames (`frame_stage` and its publish step, store
    included). CPU time is what the load of a shared machine changes least; wall time is shown for
    reference."""
    with tempfile.TemporaryDirectory(prefix="imhub-bench-svc-") as tmp:
        env = bench_env(database_url=database_url, workdir=Path(tmp))
        return dict(shell_json(env=env, code=SERVICE.format(frames=frames, batch=batch)))

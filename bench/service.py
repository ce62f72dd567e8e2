"""In-process service time of each IM read route: the read lane against Django + DRF, in CPU time.

The HTTP figures of ``api.py`` swing with whatever else the shared cores run; this measures what one
request costs the hub process itself: each route is called through the ASGI application in process
(no socket, no server) many times, and the process's CPU time (``time.process_time``, all threads,
so Django's sync thread counts) is divided by the number of requests. Other processes' load changes
this figure far less than wall-clock throughput. Run by ``python -m bench api --service-time`` in a
child process with a fresh database (the same users, team and token as the HTTP benchmark).
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

from bench.data import bench_dataset_fill

ROUNDS_LANE = 3000
ROUNDS_DRF = 300


def _scope(path: str, token: str) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: Any, scope: dict[str, Any]) -> int:
    status = 0
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _cpu_per_request(app: Any, scope: dict[str, Any], rounds: int, *, forget: Any = None) -> float:
    """CPU seconds per request; ``forget`` runs before each (not timed apart: it is a dict clear)."""
    for _ in range(20):  # warm caches (token, visibility, account rows, next-link templates)
        assert await _call(app, scope) == 200, scope["path"]
    started = time.process_time()
    for _ in range(rounds):
        if forget is not None:
            forget()
        await _call(app, scope)
    return (time.process_time() - started) / rounds


def bench_service_time(
    *, routes: tuple[tuple[str, str], ...], token: str, accounts: int, items: int
) -> list[dict[str, Any]]:
    """Per route: CPU microseconds per request through the lane and through Django + DRF."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from datasync.desk.activity import desk_load
    from datasync.im.api.lane import ReadLane
    from datasync.runtime import runtime
    from datasync.store import DataStore

    store = DataStore()
    bench_dataset_fill(store, accounts=accounts, items=items)
    desk_load(store)  # the desk's queue over the same items (else the desk routes walk an empty queue)
    runtime.serve(store)  # a ready store without the runtime's tasks: nothing else runs here
    gc.collect()
    gc.freeze()
    django_app = ASGIStaticFilesHandler(get_asgi_application())
    lane = ReadLane(django_app)
    rows = []
    for name, path in routes:
        scope = _scope(path, token)
        lane_s = asyncio.run(_cpu_per_request(lane, scope, ROUNDS_LANE))
        # the lane keeps answers of versioned reads (the desk's) until the data changes: the same
        # request with the kept answers dropped first is what a read right after a change costs
        fresh_s = asyncio.run(_cpu_per_request(lane, scope, ROUNDS_LANE, forget=lane._bodies.clear))
        drf_s = asyncio.run(_cpu_per_request(django_app, scope, ROUNDS_DRF))
        rows.append(
            {"route": name, "lane_us": lane_s * 1e6, "lane_fresh_us": fresh_s * 1e6, "drf_us": drf_s * 1e6}
        )
    return rows


def main(*, routes_json: str, token: str, accounts: int, items: int) -> None:
    """Entry for ``manage.py shell -c``: prints the rows as one JSON line."""
    routes = tuple(tuple(r) for r in json.loads(routes_json))
    rows = bench_service_time(routes=routes, token=token, accounts=accounts, items=items)  # type: ignore[arg-type]
    print("SERVICE_TIME " + json.dumps(rows))

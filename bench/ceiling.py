"""The benchmark's ceiling: a raw ASGI app returning the IM API's 20-item body, nothing else.

Served by the same server as the hub under test (``imhub.processes.hub_command(app=
"bench.ceiling:application")``), it shows what the server, the loop and the socket cost on this
machine at this moment: the IM API's figures are reported as a ratio to it, which survives the noise of
shared cores far better than absolute req/s. The body is the unified inbox's first page of account 1
of the benchmark dataset (the same records as the hub's, JSON-encoded the same way).
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
django.setup()

from bench.data import bench_account_change, bench_dataset_spec  # noqa: E402
from datasync.im.api.render import json_bytes  # noqa: E402
from datasync.store import DataStore  # noqa: E402


def ceiling_body() -> bytes:
    spec = bench_dataset_spec() or {"accounts": 100, "items": 1_000_000, "boost": 1}
    store = DataStore()
    store.apply_change(bench_account_change(account_id=1, items=spec["items"] // spec["accounts"]))
    results, cursor = store.unified_page(account_id=1, types="all", unread=False, cursor=None, limit=20)
    next_url = f"http://127.0.0.1/api/im/unified-messages/?account_id=1&cursor={cursor}"
    return json_bytes({"results": results, "next": next_url, "next_cursor": cursor})


BODY = ceiling_body()
HEADERS = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(BODY)).encode())]


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

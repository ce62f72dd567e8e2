"""Health endpoints: `/healthz` reports each part (database, channel layer, the read model's store,
disk) and is 503 when any cannot do its job; `/readyz` (for load balancers) is 200 only when this
process can serve reads: its store is loaded and the database and channel layer answer."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _check_database() -> dict[str, object]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "vendor": connection.vendor, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        connection.close_if_unusable_or_obsolete()
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def _check_channel_layer() -> dict[str, object]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    started = time.perf_counter()
    try:
        # the default prefix, as every local channel here: channels-redis serialises receives of other
        # prefixes behind the process's blocking pop (up to 5 s), longer than this check waits
        channel = await layer.new_channel()
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)
        ok = message.get("token") == token
    except Exception as exc:
        return {"ok": False, "backend": type(layer).__name__, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": ok, "backend": type(layer).__name__, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_store() -> dict[str, object]:
    """The read model: loaded (with its rows), still loading, or failing to load (with the error)."""
    from datasync.runtime import runtime

    error = getattr(runtime, "load_error", None)
    if runtime.ready:
        return {"ok": True, "state": "loaded", "rows": runtime.loaded_rows}
    if error:
        return {"ok": False, "state": "load_failed", "error": str(error)[:300]}
    return {"ok": True, "state": "loading"}


def _check_fanout() -> dict[str, object]:
    """Whether this replica still hears the other hub processes (datasync/runtime/watch.py): not ok
    while it lost the group, the broker is down, or it is catching up after a missed window."""
    from datasync.runtime import runtime

    return runtime.fanout.as_json()


def _check_disk() -> dict[str, object]:
    """Free space where the hub writes (its var dir: SQLite, snapshot, keys) against IMHUB_MIN_FREE_MB."""
    path = settings.VAR_DIR
    try:
        usage = shutil.disk_usage(path if path.exists() else path.parent)
    except OSError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    free_mb = usage.free // 2**20
    return {
        "ok": free_mb >= settings.IMHUB_MIN_FREE_MB,
        "free_mb": free_mb,
        "min_free_mb": settings.IMHUB_MIN_FREE_MB,
    }


async def healthz(request: HttpRequest) -> JsonResponse:
    """`GET /healthz`: every part's state; 200 when all can do their job, else 503."""
    database = await sync_to_async(_check_database, thread_sensitive=False)()
    channel_layer = await _check_channel_layer()
    store = _check_store()
    disk = _check_disk()
    fanout = _check_fanout()
    ok = bool(database["ok"] and channel_layer["ok"] and store["ok"] and disk["ok"] and fanout["ok"])
    return JsonResponse(
        {
            "status": "ok" if ok else "error",
            "database": database,
            "channel_layer": channel_layer,
            "store": store,
            "disk": disk,
            "fanout": fanout,
        },
        status=200 if ok else 503,
    )


async def readyz(request: HttpRequest) -> JsonResponse:
    """`GET /readyz`: 200 when this process can serve reads (store loaded, database and channel layer
    answering), else 503 with the reasons; a full disk does not stop reads."""
    store = _check_store()
    database = await sync_to_async(_check_database, thread_sensitive=False)()
    channel_layer = await _check_channel_layer()
    reasons = []
    if store.get("state") != "loaded":
        reasons.append(f"store {store.get('state')}")
    if not database["ok"]:
        reasons.append("database unavailable")
    if not channel_layer["ok"]:
        reasons.append("channel layer unavailable")
    fanout = _check_fanout()
    if not fanout["ok"]:
        reasons.append(f"fan-out {fanout['state']}")
    return JsonResponse({"ready": not reasons, "reasons": reasons}, status=503 if reasons else 200)

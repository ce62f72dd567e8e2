"""Health endpoint: reports database and channel-layer status."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
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
        channel = await layer.new_channel()  # the default prefix: see datasync.runtime (fan-out channel)
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)
        ok = message.get("token") == token
    except Exception as exc:
        return {"ok": False, "backend": type(layer).__name__, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": ok, "backend": type(layer).__name__, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def healthz(request: HttpRequest) -> JsonResponse:
    """`GET /healthz`: 200 when the database and the channel layer answer, else 503."""
    database = await sync_to_async(_check_database, thread_sensitive=False)()
    channel_layer = await _check_channel_layer()
    ok = bool(database["ok"] and channel_layer["ok"])
    return JsonResponse(
        {"status": "ok" if ok else "error", "database": database, "channel_layer": channel_layer},
        status=200 if ok else 503,
    )

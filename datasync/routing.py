"""WebSocket routes of the sync core (collected by imhub.routing)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from datasync.consumers import WorkerConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/worker/", WorkerConsumer.as_asgi()),
]

"""WebSocket routes of datasync (collected by imhub.routing)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from datasync.consumers import WorkerConsumer
from datasync.consumers.inbox import InboxConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/worker/", WorkerConsumer.as_asgi()),
    path("ws/im/", InboxConsumer.as_asgi()),
]

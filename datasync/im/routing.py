"""WebSocket routes of the IM app (collected by imhub.routing)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from datasync.im.consumers import InboxConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/im/", InboxConsumer.as_asgi()),
]

"""WebSocket routes of the hub, collected from the apps that own them."""

from __future__ import annotations

from typing import Any

from datasync.routing import websocket_urlpatterns as datasync_websocket_urlpatterns

websocket_urlpatterns: list[Any] = [*datasync_websocket_urlpatterns]

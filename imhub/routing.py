"""WebSocket routes of the hub, collected from the apps that own them."""

from __future__ import annotations

from typing import Any

from datasync.im.routing import websocket_urlpatterns as im_websocket_urlpatterns
from datasync.routing import websocket_urlpatterns as datasync_websocket_urlpatterns

websocket_urlpatterns: list[Any] = [*datasync_websocket_urlpatterns, *im_websocket_urlpatterns]

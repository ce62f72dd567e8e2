"""WebSocket routes of the hub, collected from the apps that own them."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []

try:
    from datasync.routing import websocket_urlpatterns as _datasync_ws
except ImportError:  # datasync routes not built yet
    _datasync_ws = []
websocket_urlpatterns += _datasync_ws
try:
    from accounts.routing import websocket_urlpatterns as _accounts_ws
except ImportError:
    _accounts_ws = []
websocket_urlpatterns += _accounts_ws

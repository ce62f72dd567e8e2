"""ASGI entry point: the IM read lane, then Django for HTTP; WebSockets routed by Channels (each consumer
authenticates its own clients: workers by their token, agents as the IM API does)."""

from __future__ import annotations

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

sys.setswitchinterval(settings.IMHUB_GIL_SWITCH_INTERVAL)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from datasync.im.api.lane import read_lane  # noqa: E402
from datasync.runtime import runtime_asgi_wrapper  # noqa: E402
from imhub.metrics import api_latency_observe  # noqa: E402
from imhub.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
# Each hub process loads its DataStore and joins the fan-out at start-up (ASGI lifespan), or on its first
# request or connection under a server without lifespan (daphne).
application = runtime_asgi_wrapper(application)
# Outermost: IM API reads of JSON clients answered from the DataStore; everything else passes through.
application = read_lane(application, observe=api_latency_observe)

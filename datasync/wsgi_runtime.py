"""WSGI entry that also runs this process's datasync runtime (DataStore replica + fan-out listener).

``gunicorn datasync.wsgi_runtime:application``: each WSGI worker process starts one daemon thread
with its own event loop that loads the store, joins the fan-out group and runs the periodic jobs;
request threads read the store (``datasync.api.access.im_store`` waits for the load). This is the
design's "plain HTTP from WSGI processes, each with its own DataStore replica" set-up; WebSockets stay
on daphne. With more than one process, use the Redis channel layer so fan-out reaches every replica.
Token clients' IM list requests are answered by ``datasync.api.fastpath`` (same checks and bodies).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
django_application = get_wsgi_application()

logger = logging.getLogger(__name__)


def _run_runtime() -> None:
    from datasync.runtime import runtime

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(runtime.start())
        loop.run_forever()
    except Exception:
        logger.exception("datasync runtime thread stopped")


threading.Thread(target=_run_runtime, name="datasync-runtime", daemon=True).start()

from datasync.api.fastpath import fastpath_wsgi  # noqa: E402  (needs the Django set-up done above)

# IMHUB_WSGI_FASTPATH=0 serves every request through Django + DRF (for comparison).
application = (
    django_application
    if os.environ.get("IMHUB_WSGI_FASTPATH", "1") == "0"
    else fastpath_wsgi(django_application)
)

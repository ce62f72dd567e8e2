"""The one wiring point of a hub process: everything it runs besides serving requests, listed once.

`DatasyncConfig.ready()` calls `runtime.build(hub_wiring())` in every process that sets Django up (a
hub process, a management command, the test run). Nothing registers itself on
import: a frame handler, fan-out handler, loader or periodic job that is not listed here does not run.
The runtime starts the loaders and periodic jobs only in a serving process (`runtime.start()`).
"""

from __future__ import annotations

from django.conf import settings

from accounts.services import workers_expire_silent
from datasync import events, handlers, readmarks, replies, stats_share
from datasync.api.visibility import visibility_invalidate
from datasync.bench.data import bench_dataset_loader
from datasync.runtime import Wiring, runtime


def hub_wiring() -> Wiring:
    """The hub's frame handlers, fan-out handlers, start-up loaders and periodic jobs."""
    return Wiring(
        # worker frame type -> the one handler of it (datasync/handlers.py)
        frame_handlers={
            "worker:register": handlers.worker_register,
            "worker:heartbeat": handlers.worker_heartbeat,
            "worker:account:status": handlers.account_status_record,
            "worker:data:sync": handlers.sync_apply,
            "worker:login:status": handlers.login_status_record,
            "worker:reply:result": handlers.reply_result_record,
        },
        # fan-out kind -> what every hub process does with each message of it
        fanout_handlers={
            "sync": (events.new_items_publish,),
            "read_mark": (readmarks.read_mark_fanout_apply,),
            "reply_status": (events.reply_status_publish,),
            # agents hear of it; the IM API's visibility and account-row caches are dropped
            "account_status": (events.account_status_publish, visibility_invalidate),
        },
        # after the entity rows: replay read marks; the benchmark's synthetic dataset (only when
        # IMHUB_BENCH_DATASET is set, else it does nothing)
        loaders=(readmarks.read_marks_load, bench_dataset_loader),
        periodic=(
            (workers_expire_silent, float(settings.IMHUB_HEARTBEAT_INTERVAL)),
            (replies.replies_dispatch_pending, replies.DISPATCH_INTERVAL),
            # the start-up snapshot (datasync/snapshot.py), rewritten when the data changed
            (runtime.snapshot_save, float(settings.IMHUB_SNAPSHOT_INTERVAL)),
            # this process's sync counters into Redis, for /metrics scraped from any process
            (stats_share.stats_share_publish, stats_share.PUBLISH_INTERVAL),
        ),
    )

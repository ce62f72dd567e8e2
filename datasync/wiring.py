"""What the sync core runs in a hub process besides serving requests, listed once.

The project composes this with each app's wiring (`imhub/wiring.py`) and builds the runtime with it in
every process that sets Django up (`ImhubConfig.ready()`). Nothing registers itself on import: a frame
handler, fan-out handler, loader or periodic job that is not listed in a wiring does not run. The runtime
starts the loaders and periodic jobs only in a serving process (`runtime.start()`).
"""

from __future__ import annotations

from django.conf import settings

from accounts.commands import AssignCommand, LoginStartCommand, ResyncCommand, RevokeCommand
from accounts.services import workers_expire_silent
from datasync import commands, handlers, stats_share
from datasync.runtime import Wiring, runtime


def core_wiring() -> Wiring:
    """The worker frames and commands the core handles, and the core's periodic jobs."""
    return Wiring(
        # worker frame type -> the one handler of it (datasync/handlers.py)
        frame_handlers={
            "worker:register": handlers.worker_register,
            "worker:heartbeat": handlers.worker_heartbeat,
            "worker:account:status": handlers.account_status_record,
            "worker:data:sync": handlers.sync_apply,
            "worker:login:status": handlers.login_status_record,
        },
        # the CPU work on a sync frame, done while the connection's previous frame commits
        frame_preparers={"worker:data:sync": handlers.sync_prepare},
        # worker command -> the hub frame it becomes (datasync/commands.py)
        command_frames={
            AssignCommand: commands.assign_frame,
            RevokeCommand: commands.revoke_frame,
            LoginStartCommand: commands.login_start_frame,
            ResyncCommand: commands.resync_frame,
        },
        periodic=(
            (workers_expire_silent, float(settings.IMHUB_HEARTBEAT_INTERVAL)),
            # the start-up snapshot (datasync/snapshot.py), rewritten when the data changed
            (runtime.snapshot_save, float(settings.IMHUB_SNAPSHOT_INTERVAL)),
            # this process's sync counters into Redis, for /metrics scraped from any process
            (stats_share.stats_share_publish, stats_share.PUBLISH_INTERVAL),
        ),
    )

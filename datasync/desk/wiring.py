"""What the desk runs in a hub process besides serving requests (composed after the IM app's wiring
by `imhub/wiring.py`, so its handlers of a fan-out kind run after the store and the IM app's)."""

from __future__ import annotations

from datasync.desk import activity, autoassign, presence, states
from datasync.runtime import Wiring


def desk_wiring() -> Wiring:
    """The queue follows synced data and read marks; desk states and presence reach every process."""
    return Wiring(
        fanout_handlers={
            "sync": (activity.threads_sync_apply,),
            "read_mark": (activity.threads_read_mark_apply,),
            "desk_state": (states.desk_state_fanout_apply,),
            "desk_presence": (presence.presence_fanout_apply,),
        },
        # after the entity rows and the read marks: build the queue
        loaders=(activity.desk_load,),
        periodic=(
            (activity.snoozes_wake, activity.SNOOZE_CHECK_INTERVAL),
            (autoassign.auto_assign_run, autoassign.INTERVAL),
        ),
    )

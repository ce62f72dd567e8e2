"""What the IM app runs in a hub process besides serving requests, listed once (composed with the
core's wiring by `imhub/wiring.py`)."""

from __future__ import annotations

from datasync.im import events, handlers, readmarks, replies, revocation
from datasync.im.api.visibility import visibility_invalidate
from datasync.runtime import Wiring


def im_wiring() -> Wiring:
    """Replies (their command, result frame and dispatcher), the agent events made of fan-out messages,
    read marks."""
    return Wiring(
        frame_handlers={"worker:reply:result": handlers.reply_result_record},
        command_frames={replies.ReplyRequestCommand: handlers.reply_request_frame},
        # fan-out kind -> what every hub process does with each message of it
        fanout_handlers={
            "sync": (events.new_items_publish,),
            "read_mark": (readmarks.read_mark_fanout_apply,),
            "reply_status": (events.reply_status_publish,),
            # agents hear of it; the IM API's visibility and account-row caches are dropped
            "account_status": (events.account_status_publish, visibility_invalidate),
            # a user's access shrank: caches dropped, their open sockets re-checked (4401 / 4403)
            "auth_revoked": (revocation.auth_revoked_apply,),
        },
        # after the entity rows: replay the read marks
        loaders=(readmarks.read_marks_load,),
        periodic=((replies.replies_dispatch_pending, replies.DISPATCH_INTERVAL),),
    )

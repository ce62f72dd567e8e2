"""The IM app's worker frame handler: `worker:reply:result` (listed in datasync/im/wiring.py)."""

from __future__ import annotations

from datasync.handlers import Outcome, WorkerSession, service_refusals
from datasync.im import replies
from datasync.protocol import ReplyResultFrame


def reply_result_record(*, session: WorkerSession, frame: ReplyResultFrame) -> Outcome:
    """`worker:reply:result`: finish the reply (`replies.reply_record_result`); a refusal keeps the row."""
    with service_refusals(ref=frame.id):
        replies.reply_record_result(worker=session.worker, result=frame.payload)
    return Outcome()

"""The IM app's side of the worker protocol: the `worker:reply:result` handler and the frame of its
reply command (listed in datasync/im/wiring.py)."""

from __future__ import annotations

from datasync.handlers import Outcome, WorkerSession, service_refusals
from datasync.im import replies
from datasync.protocol import ReplyRequestFrame, ReplyResultFrame


def reply_result_record(*, session: WorkerSession, frame: ReplyResultFrame) -> Outcome:
    """`worker:reply:result`: finish the reply (`replies.reply_record_result`); a refusal keeps the row."""
    with service_refusals(ref=frame.id):
        replies.reply_record_result(worker=session.worker, result=frame.payload)
    return Outcome()


def reply_request_frame(command: replies.ReplyRequestCommand) -> ReplyRequestFrame:
    """`master:reply:request` of a dispatched reply."""
    return ReplyRequestFrame.build(
        reply_id=command.reply_id,
        account_id=command.account_id,
        target=command.target,
        text=command.text,
        attempt=command.attempt,
        first_attempt_at=command.first_attempt_at,
        verify_first=command.verify_first,
    )

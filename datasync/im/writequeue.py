"""Each account's write queue on the hub: replies wait their turn under the account's write policy
(`accounts.writepolicy`) and are dispatched to the worker one at a time when due.

One write at a time: the next reply goes `gap` seconds after the previous one is done (a write in the
worker's hands holds the queue, up to IMHUB_REPLY_DEADLINE). A queued reply is `pending` with no
`dispatched_at`; its place is shown as `queue: {position, eta}`
(1 = next; eta ISO 8601) in the API and in `reply_status` events, and every queued reply of the account
is announced again when the queue moves. A risk hold (the worker reports `cooldown` until
`next_run_at`) holds the queue; so do the quiet hours and the caps. Nothing is dropped: a queued reply
waits as long as the policy says, and fails `no_worker` only when no online worker holds the account
past IMHUB_REPLY_DEADLINE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from accounts.writepolicy import DAY, WritePolicy, schedule
from datasync.im.models import ReplyRequest, ReplyStatus

COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Slot:
    position: int  # 1 = next
    eta: float  # epoch s

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "eta": datetime.fromtimestamp(self.eta, UTC).isoformat()}


def queued_replies(account_id: int) -> list[ReplyRequest]:
    """The account's replies waiting to be dispatched, oldest first."""
    return list(
        ReplyRequest.objects.filter(
            account_id=account_id, status=ReplyStatus.PENDING, dispatched_at__isnull=True
        ).order_by("created_at", "id")
    )


def hold_until(account: Any) -> float | None:
    """The end of the account's risk hold (the worker reports `cooldown` until `next_run_at`)."""
    if account.runner_status == COOLDOWN and account.next_run_at is not None:
        return float(account.next_run_at.timestamp())
    return None


def account_slots(
    account: Any, *, now: float | None = None, queue: list[ReplyRequest] | None = None
) -> dict[str, Slot]:
    """Reply id -> its place and send time, for every queued reply of `account`."""
    now = time.time() if now is None else now
    queue = queued_replies(account.pk) if queue is None else queue
    if not queue:
        return {}
    since = datetime.fromtimestamp(now - DAY, UTC)
    recent = ReplyRequest.objects.filter(account_id=account.pk, dispatched_at__gte=since).values_list(
        "dispatched_at", "finished_at"
    )
    history, last_done = [], None
    stale = now - float(settings.IMHUB_REPLY_DEADLINE)
    for dispatched, finished in recent:
        if dispatched is None:
            continue
        history.append(dispatched.timestamp())
        # a write still in the worker's hands holds the queue (until the deadline: then it no longer does)
        done = (
            finished.timestamp()
            if finished is not None
            else (now if dispatched.timestamp() > stale else None)
        )
        if done is not None and (last_done is None or done > last_done):
            last_done = done
    etas = schedule(
        last_done=last_done,
        policy=WritePolicy.of(account),
        history=history,
        queued=len(queue),
        now=now,
        hold_until=hold_until(account),
    )
    return {
        str(reply.pk): Slot(position=i + 1, eta=eta)
        for i, (reply, eta) in enumerate(zip(queue, etas, strict=True))
    }


def reply_status(reply: ReplyRequest, *, slots: dict[str, Slot] | None = None) -> dict[str, Any]:
    """`reply.as_status()` with its `queue` place while it waits (None otherwise)."""
    data = reply.as_status()
    data["queue"] = None
    if reply.status == ReplyStatus.PENDING and reply.dispatched_at is None:
        if slots is None:
            slots = account_slots(reply.account)
        slot = slots.get(str(reply.pk))
        data["queue"] = slot.as_dict() if slot is not None else None
    return data

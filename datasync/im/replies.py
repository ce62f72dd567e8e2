"""Reply lifecycle: an agent's reply is recorded pending, sent to the worker holding the account, and
finished by the worker's ``worker:reply:result`` (sent with the platform's id, failed, or unknown).

Rules: a reply waits its turn in the account's write queue (``writequeue``: gap, caps, quiet hours, risk
hold) and is dispatched at most once (``dispatched_at`` is set in the same transaction that sends it),
never re-sent automatically; a reply whose account no online worker holds within
``settings.IMHUB_REPLY_DEADLINE`` seconds fails with ``no_worker``; rows are never deleted. A sent
reply's entity (the created comment or message) is stored like synced data and enters the DataStore at once.
``unknown`` (the worker posted, or may have posted, without proof either way) is final like ``failed``;
only an agent retries, with a new reply naming the earlier one (``retry_of``): the worker is then asked
to look for the text in the thread before posting (``verify_first``), so a reply is never posted twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.commands import WorkerCommand, send_worker_command
from accounts.models import Account
from datasync import persistence
from datasync.fanout import fanout_publish_sync
from datasync.im import writequeue
from datasync.im.errors import ActionConflict
from datasync.im.models import ReplyRequest, ReplyStatus
from datasync.runtime import runtime
from datasync.store import Change, DataStore, StoreNotFound, StoreQueryError

logger = logging.getLogger(__name__)

TARGET_KINDS = ("comment", "work", "message")
MAX_TEXT = 2000
DISPATCH_INTERVAL = 1.0


@dataclass(frozen=True)
class ReplyRequestCommand(WorkerCommand):
    """Perform this reply on the platform (the worker answers with `worker:reply:result`)."""

    NAME: ClassVar[str] = "reply_request"
    reply_id: str
    target: dict[str, Any]
    text: str
    attempt: int = 1
    first_attempt_at: int | None = None  # epoch ms of the first try of this reply (a retry's original)
    verify_first: bool = False  # a retry: look for the text in the thread before posting


class ReplyError(Exception):
    """A worker's result the hub refuses (the worker-frame handler turns it into ``master:error``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# a worker's result status -> the reply's final status
RESULT_STATUS = {"sent": ReplyStatus.SENT, "failed": ReplyStatus.FAILED, "unknown": ReplyStatus.UNKNOWN}

# target kind -> (the id field it needs, what that reply is called in the error)
TARGET_IDS = {
    "comment": ("comment_id", "a comment reply"),
    "work": ("content_id", "a work comment"),
    "message": ("conversation_id", "a message"),
}


def reply_target_check(*, store: DataStore, account_id: int, target: dict[str, Any]) -> dict[str, Any]:
    """The full target for a reply, checked against the store; StoreQueryError / StoreNotFound otherwise."""
    kind = target.get("kind")
    if not isinstance(kind, str) or kind not in TARGET_IDS:
        raise StoreQueryError("target.kind", f"must be one of {', '.join(TARGET_KINDS)}")
    field, called = TARGET_IDS[kind]
    ident = str(target.get(field) or "")
    if not ident:
        raise StoreQueryError(f"target.{field}", f"required for {called}")
    full: dict[str, Any] = {"kind": kind, "content_id": None, "comment_id": None, "conversation_id": None}
    full[field] = ident
    if kind == "comment":
        full["content_id"] = store.comment_get(account_id=account_id, comment_id=ident)["content_id"]
    elif kind == "work":
        store.content_get(account_id=account_id, content_id=ident)
    elif not store.conversation_known(account_id=account_id, conversation_id=ident):
        raise StoreNotFound("conversation", ident)
    return full


RETRYABLE = (ReplyStatus.FAILED, ReplyStatus.UNKNOWN)


class ReplyConfirmRequired(Exception):
    """A retry of an ``unknown`` reply without ``confirm``: the earlier try may already be posted."""

    code = "confirm_required"

    def __init__(self, retry_of: str) -> None:
        super().__init__(
            f"reply {retry_of} is unknown: it may already be posted; send confirm=true to retry anyway"
        )
        self.retry_of = retry_of


def reply_retried(
    *, account: Any, retry_of: str, target: dict[str, Any], text: str, confirm: bool = False
) -> ReplyRequest:
    """The earlier try an agent's retry names: same account, failed or unknown, same target and text;
    StoreQueryError naming ``retry_of`` otherwise. An ``unknown`` earlier try may already be on the
    platform: its retry needs ``confirm`` (ReplyConfirmRequired otherwise)."""
    earlier = ReplyRequest.objects.filter(pk=_uuid_or_none(retry_of), account=account).first()
    if earlier is None:
        raise StoreQueryError("retry_of", f"no reply {retry_of} on this account")
    if earlier.status not in RETRYABLE:
        raise StoreQueryError(
            "retry_of", f"only a failed or unknown reply can be retried; it is {earlier.status}"
        )
    if earlier.target != target or earlier.text != text:
        raise StoreQueryError("retry_of", "a retry repeats the earlier reply's target and text")
    if earlier.status == ReplyStatus.UNKNOWN and not confirm:
        raise ReplyConfirmRequired(str(earlier.pk))
    return earlier


def reply_create(
    *,
    store: DataStore,
    account: Any,
    user: Any,
    target: dict[str, Any],
    text: str,
    idempotency_key: str,
    retry_of: str | None = None,
    confirm: bool = False,
) -> tuple[ReplyRequest, bool]:
    """Record a pending reply and try to dispatch it; returns (reply, created).

    The same idempotency key on the same account returns the existing reply and sends nothing.
    ``retry_of`` names the earlier try (failed or unknown) an agent retries (see ``reply_retried``);
    retrying an ``unknown`` one needs ``confirm`` (the agent was told it may already be posted).
    """
    existing = ReplyRequest.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise StoreQueryError("text", f"must be 1 to {MAX_TEXT} characters")
    full = reply_target_check(store=store, account_id=account.id, target=target)
    earlier = (
        reply_retried(account=account, retry_of=retry_of, target=full, text=text, confirm=confirm)
        if retry_of
        else None
    )
    try:
        with transaction.atomic():
            reply = ReplyRequest.objects.create(
                account=account,
                target_kind=full["kind"],
                content_id=full["content_id"] or "",
                comment_id=full["comment_id"] or "",
                conversation_id=full["conversation_id"] or "",
                text=text,
                idempotency_key=idempotency_key,
                retry_of=earlier,
                attempt=earlier.attempt + 1 if earlier is not None else 1,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:  # a concurrent request with the same key won
        return ReplyRequest.objects.get(account=account, idempotency_key=idempotency_key), False
    queue_advance(account=account)
    reply.refresh_from_db()
    reply_publish_status(reply=reply)  # pending: dispatched, or its place in the account's write queue
    return reply, True


def reply_cancel(*, reply: ReplyRequest, user: Any) -> ReplyRequest:
    """Withdraw a reply still waiting in its account's queue (never handed to a worker): it becomes
    `failed` with code `cancelled` (an agent's Retry queues it again); the queue moves up. A reply
    already dispatched or finished cannot be withdrawn (ActionConflict `not_queued`)."""
    name = getattr(user, "get_username", lambda: "")() or "an agent"
    finished = reply_finish(
        reply_id=reply.pk,
        status=ReplyStatus.FAILED,
        error_code="cancelled",
        error_message=f"withdrawn by {name} before it was sent",
        only_undispatched=True,
    )
    if finished is None:
        reply.refresh_from_db()
        state = "already handed to the worker" if reply.status == ReplyStatus.PENDING else reply.status
        raise ActionConflict(
            "not_queued",
            f"only a reply still waiting in the queue can be withdrawn; it is {state}",
            confirmable=False,
        )
    logger.info("reply %s withdrawn by %s: account_id=%s", reply.pk, name, reply.account_id)
    queue_announce(account=reply.account)
    return finished


def queue_advance(*, account: Any, now: float | None = None) -> bool:
    """Dispatch the account's next queued reply if the write policy says it is due; when the queue
    moved, announce every reply still waiting (their places changed). True if one was dispatched."""
    queue = writequeue.queued_replies(account.pk)
    if not queue:
        return False
    now = time.time() if now is None else now
    slots = writequeue.account_slots(account, now=now, queue=queue)
    first = queue[0]
    if slots[str(first.pk)].eta > now or not _dispatch_logged(reply_id=first.id, account=account):
        return False
    queue_announce(account=account)
    return True


def reply_dispatch(*, reply_id: Any) -> bool:
    """Send a pending, never-dispatched reply to the worker holding its account; True if sent."""
    with transaction.atomic():
        # lock the reply row only: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join
        # to the account's worker ("FOR UPDATE cannot be applied to the nullable side of an outer join")
        reply = (
            ReplyRequest.objects.select_for_update(of=("self",))
            .select_related("account__worker", "retry_of")
            .get(pk=reply_id)
        )
        worker = reply.account.worker
        if reply.status != ReplyStatus.PENDING or reply.dispatched_at is not None:
            return False
        if worker is None or worker.status != "online":
            return False
        reply.dispatched_at = timezone.now()
        reply.worker_id = worker.worker_id
        reply.save(update_fields=["dispatched_at", "worker_id", "updated_at"])
        _send_worker_command(
            worker_id=worker.worker_id,
            command=ReplyRequestCommand(
                account_id=reply.account_id,
                reply_id=str(reply.id),
                target=reply.target,
                text=reply.text,
                attempt=reply.attempt,
                first_attempt_at=int(reply.first_try().created_at.timestamp() * 1000),
                verify_first=reply.retry_of_id is not None,
            ),
        )
    logger.info("reply %s dispatched: account_id=%s worker=%s", reply.id, reply.account_id, worker.worker_id)
    return True


def replies_dispatch_pending(*, now: Any = None) -> dict[str, int]:
    """Periodic job: dispatch each account's next queued reply when its write policy says it is due;
    fail those past the deadline whose account no online worker holds."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=float(settings.IMHUB_REPLY_DEADLINE))
    waiting = ReplyRequest.objects.filter(status=ReplyStatus.PENDING, dispatched_at__isnull=True)
    expired = 0
    unheld = waiting.filter(created_at__lt=deadline).exclude(account__worker__status="online")
    for reply in unheld.select_related("account"):
        if reply_finish(
            reply_id=reply.id,
            status=ReplyStatus.FAILED,
            error_code="no_worker",
            error_message=f"no worker took the account within {settings.IMHUB_REPLY_DEADLINE:g} s",
            only_undispatched=True,
        ):
            expired += 1
            logger.warning(
                "reply %s failed no_worker: account_id=%s platform=%s",
                reply.id,
                reply.account_id,
                reply.account.platform,
            )
    sent = 0
    accounts = Account.objects.filter(pk__in=waiting.values("account_id")).select_related("worker")
    for account in accounts:
        sent += queue_advance(account=account, now=now.timestamp())
    return {"dispatched": sent, "expired": expired}


def _dispatch_logged(*, reply_id: Any, account: Any) -> bool:
    """reply_dispatch; a failure leaves the reply pending (the periodic job retries) and is logged."""
    try:
        return reply_dispatch(reply_id=reply_id)
    except Exception:
        logger.exception(
            "reply %s dispatch failed: account_id=%s platform=%s", reply_id, account.id, account.platform
        )
        return False


def reply_finish(
    *,
    reply_id: Any,
    status: str,
    platform_reply_id: str = "",
    error_code: str = "",
    error_message: str = "",
    only_undispatched: bool = False,
) -> ReplyRequest | None:
    """Move a pending reply to sent/failed/unknown once; returns it, or None if it was no longer pending."""
    with transaction.atomic():
        reply = ReplyRequest.objects.select_for_update().get(pk=reply_id)
        if reply.status != ReplyStatus.PENDING or (only_undispatched and reply.dispatched_at is not None):
            return None
        reply.status = status
        reply.platform_reply_id = platform_reply_id
        reply.error_code = error_code
        reply.error_message = error_message
        reply.finished_at = timezone.now()
        reply.save()
    reply_publish_status(reply=reply)
    return reply


def reply_record_result(*, worker: Any, result: Any) -> ReplyRequest:
    """Apply a worker's ``worker:reply:result`` payload (protocol ReplyResultPayload).

    Raises ReplyError (``unknown_reply``, ``not_assigned``, ``already_finished``) for a result the hub
    cannot accept; the row is left unchanged then. ``unknown`` is kept as is (final, never re-sent).
    """
    reply = ReplyRequest.objects.select_related("account").filter(pk=_uuid_or_none(result.reply_id)).first()
    if reply is None:
        raise ReplyError("unknown_reply", f"no reply {result.reply_id}")
    if reply.worker_id != worker.worker_id:
        raise ReplyError("not_assigned", f"reply {reply.id} was not sent to worker {worker.worker_id}")
    finished = reply_finish(
        reply_id=reply.id,
        status=RESULT_STATUS[result.status],
        platform_reply_id=result.platform_reply_id or "",
        error_code=result.error_code or ("" if result.status == "sent" else result.status),
        error_message=result.error_message,
    )
    if finished is None:
        raise ReplyError("already_finished", f"reply {reply.id} is already {reply.status}")
    if finished.status != ReplyStatus.SENT:
        logger.warning(
            "reply %s %s on the worker: account_id=%s platform=%s code=%s message=%s",
            reply.id,
            finished.status,
            reply.account_id,
            reply.account.platform,
            finished.error_code,
            finished.error_message,
        )
    if result.status == "sent" and result.entity is not None:
        reply_entity_apply(account_id=reply.account_id, entity=result.entity.model_dump(mode="json"))
    queue_announce(account=reply.account)  # the write is done: the next one's send time moved
    return finished


def queue_announce(*, account: Any) -> None:
    """Publish the status (place and send time) of every reply waiting in the account's queue."""
    queue = writequeue.queued_replies(account.pk)
    if queue:
        slots = writequeue.account_slots(account, queue=queue)
        for reply in queue:
            reply_publish_status(reply=reply, slots=slots)


def reply_entity_apply(*, account_id: int, entity: dict[str, Any]) -> None:
    """Store a sent reply's comment or message like synced data and apply it to every store at once."""
    kind = "comments" if "comment_id" in entity else "messages"
    now_ms = int(time.time() * 1000)
    with transaction.atomic():
        seq, revision = persistence.revision_bump(account_id=account_id)
        applied = persistence.entities_upsert(account_id=account_id, upserts={kind: [entity]}, now_ms=now_ms)
    runtime.change_publish(
        change=Change(account_id=account_id, seq=seq, upserts=applied, applied_at=now_ms, revision=revision)
    )


def reply_publish_status(*, reply: ReplyRequest, slots: dict[str, writequeue.Slot] | None = None) -> None:
    try:
        fanout_publish_sync(kind="reply_status", data=writequeue.reply_status(reply, slots=slots))
    except Exception:
        logger.exception("reply_status fan-out failed: reply=%s account_id=%s", reply.id, reply.account_id)


def _send_worker_command(*, worker_id: str, command: WorkerCommand) -> None:
    """``accounts.commands.send_worker_command`` (sends after the transaction commits)."""
    send_worker_command(worker_id=worker_id, command=command)


def _uuid_or_none(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None

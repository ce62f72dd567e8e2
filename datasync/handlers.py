"""One function per worker frame type; the WorkerConsumer parses a frame and calls `frame_stage`.

Handlers are sync (they run in a worker thread, off the event loop), take keyword-only arguments and
return an `Outcome`: the frames to send back. Every refusal is a `ProtocolError` with a stable code;
nothing of a refused frame is applied. The table of frame type -> handler is the runtime's wiring, one
handler per type: the core's in `datasync/wiring.py`, the IM app's `worker:reply:result` in
`datasync/im/wiring.py`.

Sync rules (`worker:data:sync`):
- the worker must hold the account at the frame's epoch (`account_holder_verify`), else
  `unknown_account` / `not_assigned` / `stale_epoch`;
- seq is per account and continues across epochs (the assignment tells the worker `last_seq`):
  `seq <= last_seq` is acked again without re-applying; `seq > last_seq + 1` is refused with
  `seq_gap` followed by `master:resync`; `seq == last_seq + 1` is applied in one transaction
  (upsert, deletions, SyncState, Account.last_sync_at), then handed on once
  (`runtime.change_publish`: this process's store, then the other hub processes), then acked. The
  hand-on is the outcome's `publish` step, so the transport can commit the next frame meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from datasync import persistence, stats
from datasync.models import SyncState
from datasync.protocol import (
    PROTOCOL_VERSION,
    AccountStatusFrame,
    Assignment,
    BaseFrame,
    DataSyncAckFrame,
    DataSyncFrame,
    ErrorCode,
    HeartbeatFrame,
    LoginStatusFrame,
    ProtocolError,
    RegisterAckFrame,
    RegisterFrame,
    ResyncFrame,
    error_frame,
)
from datasync.runtime import runtime
from datasync.store import Change

logger = logging.getLogger(__name__)


@dataclass
class WorkerSession:
    """What the hub knows about one worker connection."""

    worker: Any
    registered: bool = False

    @property
    def worker_id(self) -> str:
        return str(self.worker.worker_id)


@dataclass
class Outcome:
    """What a handler wants the transport to do: send frames, count a rejection, join the worker's group.

    `publish`, when set, is the last step of a durably applied frame (`runtime.change_publish` of its
    change): it must run after the handler returned and before `frames` are sent. The transport may
    run it while it stages the connection's next frame (`WorkerConsumer`), in frame order."""

    frames: list[BaseFrame] = field(default_factory=list)
    rejected_code: str | None = None
    joined: bool = False
    publish: Callable[[], None] | None = None

    def publish_run(self) -> None:
        """Run the pending publish step, once."""
        step, self.publish = self.publish, None
        if step is not None:
            step()


def _refuse(exc: Exception, *, ref: str) -> ProtocolError:
    """Translate an accounts-service error (which carries `code` and `message`) into a ProtocolError."""
    code = getattr(exc, "code", None) or ErrorCode.INTERNAL
    return ProtocolError(str(code), str(getattr(exc, "message", exc)), ref=ref)


@contextlib.contextmanager
def service_refusals(*, ref: str) -> Iterator[None]:
    """A service's refusal (an exception with a `code`: AccountsError, ReplyError) becomes a ProtocolError;
    anything else propagates (the consumer answers `internal_error`)."""
    try:
        yield
    except Exception as exc:
        if getattr(exc, "code", None):
            raise _refuse(exc, ref=ref) from None
        raise


def _last_seq(account_id: int) -> int:
    return SyncState.objects.filter(account_id=account_id).values_list("last_seq", flat=True).first() or 0


def assignment_build(*, account: Any) -> Assignment:
    """The protocol assignment of an account: the accounts service's data plus where its seq stands."""
    from accounts.services import account_assignment_data

    data = account_assignment_data(account=account)
    return Assignment.model_validate({**data, "last_seq": _last_seq(account.id)})


# ---- worker frames -----------------------------------------------------------------------------------


def worker_register(*, session: WorkerSession, frame: RegisterFrame) -> Outcome:
    from accounts.services import worker_connect

    payload = frame.payload
    if payload.worker_id != session.worker_id:
        raise ProtocolError(
            ErrorCode.WORKER_MISMATCH,
            f"registered as {payload.worker_id!r} but the token belongs to {session.worker_id!r}",
            ref=frame.id,
        )
    if payload.protocol_version != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {payload.protocol_version} is not supported (hub speaks {PROTOCOL_VERSION})",
            ref=frame.id,
        )
    accounts = worker_connect(
        worker=session.worker,
        capabilities=list(payload.capabilities),
        max_accounts=payload.max_accounts,
        host=payload.host,
        version=payload.version,
    )
    assignments = [assignment_build(account=account) for account in accounts]
    session.registered = True
    ack = RegisterAckFrame.build(
        heartbeat_interval=float(settings.IMHUB_HEARTBEAT_INTERVAL), assignments=assignments
    )
    return Outcome(frames=[ack], joined=True)


def worker_heartbeat(*, session: WorkerSession, frame: HeartbeatFrame) -> Outcome:
    from accounts.services import worker_heartbeat as heartbeat

    heartbeat(worker=session.worker, stats=frame.payload.model_dump(mode="json"))
    return Outcome()


def account_status_record(*, session: WorkerSession, frame: AccountStatusFrame) -> Outcome:
    from accounts import services

    p = frame.payload
    with service_refusals(ref=frame.id):
        account = services.account_record_status(
            worker=session.worker,
            account_id=p.account_id,
            epoch=p.epoch,
            login_status=p.login_status,
            runner_status=p.runner_status,
            last_error=p.last_error,
            next_run_at=p.next_run_at,
            profile=p.profile.model_dump(mode="json") if p.profile else None,
            listener_status=p.listener_status,
        )
    if p.last_error:
        logger.warning(
            "account error reported: account_id=%s platform=%s worker=%s runner=%s error=%s",
            p.account_id,
            getattr(account, "platform", "?"),
            session.worker_id,
            p.runner_status,
            p.last_error,
        )
    return Outcome()


def login_status_record(*, session: WorkerSession, frame: LoginStatusFrame) -> Outcome:
    from accounts import services

    p = frame.payload
    with service_refusals(ref=frame.id):
        services.login_session_update(
            worker=session.worker,
            session_id=p.session_id,
            account_id=p.account_id,
            status=p.status,
            qr_image=p.qr_image,
            message=p.message,
            expires_at=p.expires_at,
            storage_state=p.storage_state,
            profile=p.profile.model_dump(mode="json") if p.profile else None,
        )
    return Outcome()


@dataclass(frozen=True)
class SyncPrepared:
    """A sync frame's records made ready before its transaction (`sync_prepare`)."""

    upserts: persistence.PreparedUpserts
    deleted: dict[str, list[str]]


def sync_prepare(frame: DataSyncFrame) -> SyncPrepared:
    """The CPU work on a sync frame that needs no database: its records dumped, merged within the frame
    and, on PostgreSQL, written as COPY text (`upserts_prepare`); the row stamp (`updated_ms`) is the
    time of this step. The WorkerConsumer runs it while the connection's previous frame commits."""
    p = frame.payload
    upserts = persistence.upserts_prepare(account_id=p.account_id, upserts=p.entities.model_dump())
    return SyncPrepared(upserts=upserts, deleted=p.deleted.model_dump())


def sync_apply(
    *, session: WorkerSession, frame: DataSyncFrame, prepared: SyncPrepared | None = None
) -> Outcome:
    """Apply one `worker:data:sync` frame durably (see the module docstring for the rules); its
    records as `sync_prepare` made them ready (done here when not given)."""
    started = time.perf_counter()
    from accounts import services

    p = frame.payload
    account_id = p.account_id
    with transaction.atomic():
        held, platform, last_seq = persistence.sync_frame_lock(account_id=account_id)
        try:
            services.account_holder_verify(
                worker=session.worker, account_id=account_id, epoch=p.epoch, held=held
            )
        except services.AccountNotHeld as exc:
            raise _refuse(exc, ref=frame.id) from None
        if p.seq <= last_seq:
            stats.stats_sync_duplicate(account_id=account_id)
            return Outcome(frames=[DataSyncAckFrame.build(account_id=account_id, seq=last_seq)])
        if p.seq > last_seq + 1:
            logger.warning(
                "seq gap: account_id=%s platform=%s worker=%s got seq %d after %d",
                account_id,
                platform,
                session.worker_id,
                p.seq,
                last_seq,
            )
            message = f"seq {p.seq} does not follow {last_seq}; send a snapshot"
            return Outcome(
                frames=[
                    error_frame(ErrorCode.SEQ_GAP, message, ref=frame.id),
                    ResyncFrame.build(account_id=account_id),
                ],
                rejected_code=ErrorCode.SEQ_GAP,
            )
        now = timezone.now()
        now_ms = int(now.timestamp() * 1000)
        ready = prepared or sync_prepare(frame)
        applied = persistence.entities_upsert_prepared(ready.upserts)
        removed = persistence.entities_delete(account_id=account_id, deleted=ready.deleted)
        items = sum(len(v) for v in applied.values())
        deletions = sum(len(v) for v in removed.values())
        revision = persistence.sync_state_advance(
            account_id=account_id, epoch=p.epoch, seq=p.seq, at=now, items=items, deleted=deletions
        )
    change = Change(
        account_id=account_id,
        seq=p.seq,
        upserts=applied,
        deleted=removed,
        applied_at=now_ms,
        revision=revision,
    )

    def publish() -> None:
        try:
            runtime.change_publish(change=change)
        finally:  # durable either way: counted as applied
            stats.stats_sync_applied(
                account_id=account_id, items=items, deleted=deletions, seconds=time.perf_counter() - started
            )

    return Outcome(frames=[DataSyncAckFrame.build(account_id=account_id, seq=p.seq)], publish=publish)


# ---- dispatch ----------------------------------------------------------------------------------------


def frame_prepare(*, frame: BaseFrame) -> Any:
    """CPU work on a frame ahead of its handler, with no database access and no effect, by type through
    the runtime's table of preparers (`sync_prepare` for sync frames); None for a frame without one."""
    preparer = runtime.wiring.frame_preparers.get(type(frame).TYPE)
    return preparer(frame) if preparer is not None else None


def frame_stage(*, session: WorkerSession, frame: BaseFrame, prepared: Any = None) -> Outcome:
    """Dispatch one parsed worker frame by type, through the runtime's table of frame handlers (a frame
    `frame_prepare` made something ready for gets it as `prepared`); a durably applied sync frame comes
    back with its publish step still to run (`Outcome.publish`)."""
    frame_type = type(frame).TYPE
    if frame_type != "worker:register" and not session.registered:
        raise ProtocolError(ErrorCode.NOT_REGISTERED, "send worker:register first", ref=frame.id)
    handler = runtime.wiring.frame_handlers.get(frame_type)
    if handler is None:
        raise ProtocolError(
            ErrorCode.UNEXPECTED_FRAME, f"{frame_type} is not a frame a worker sends", ref=frame.id
        )
    if prepared is not None:
        return handler(session=session, frame=frame, prepared=prepared)
    return handler(session=session, frame=frame)

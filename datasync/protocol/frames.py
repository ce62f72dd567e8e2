"""Typed frames of the hub <-> worker WebSocket protocol (docs/protocol.md).

Every frame is `{"type": "<area>:<verb>", "id": "<unique per sender>", "ts": <epoch ms>, "payload": {...}}`.
`Frame.build(**payload)` makes a frame with a fresh id and the current time.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datasync.protocol.limits import (
    INT64_MAX,
    MAX_STATS_ACCOUNTS,
    MAX_STATS_BYTES,
    MAX_TEXT,
    ErrorText,
    Id,
    Int64,
    Name,
    QrImage,
    RequiredId,
)
from datasync.protocol.records import (
    Comment,
    Deleted,
    Entities,
    EpochMs,
    Message,
    Profile,
    Record,
)

PROTOCOL_VERSION = 1

LoginStatusValue = Literal["qrcode_ready", "qrcode_refreshed", "scanned", "success", "failed", "timeout"]
AccountLoginStatus = Literal["not_logged_in", "logging_in", "logged_in", "expired", "unknown"]
RunnerStatus = Literal[
    "idle", "starting", "running", "crawling", "backoff", "cooldown", "stopped", "error", "surface_changed"
]
# The account's push listener (crawler/listener.py): "" when the worker does not listen.
ListenerStatus = Literal["", "listening", "polling", "reinstalling"]


def now_ms() -> int:
    return int(time.time() * 1000)


class BaseFrame(BaseModel):
    """Envelope shared by every frame; subclasses fix `type` and the payload model."""

    model_config = ConfigDict(extra="forbid")
    TYPE: ClassVar[str]

    id: str = Field(min_length=1, max_length=100)
    ts: EpochMs
    payload: Any

    @classmethod
    def build(cls, *, frame_id: str | None = None, **payload: Any) -> Self:
        payload_model = cls.model_fields["payload"].annotation
        assert isinstance(payload_model, type) and issubclass(payload_model, BaseModel)
        return cls(
            type=cls.TYPE,  # type: ignore[call-arg]
            id=frame_id or uuid.uuid4().hex,
            ts=now_ms(),
            payload=payload_model(**payload),
        )


# ---- worker -> hub -------------------------------------------------------------------------------


class RegisterPayload(Record):
    worker_id: str = Field(min_length=1, max_length=100)
    version: Name = ""
    protocol_version: Int64 = PROTOCOL_VERSION
    capabilities: list[str] = Field(default_factory=list)
    max_accounts: int = Field(default=10, ge=0, le=INT64_MAX)
    host: Name = ""


class RegisterFrame(BaseFrame):
    TYPE = "worker:register"
    type: Literal["worker:register"]
    payload: RegisterPayload


class HeartbeatPayload(Record):
    active_accounts: int = Field(default=0, ge=0, le=INT64_MAX)
    browser_contexts: int = Field(default=0, ge=0, le=INT64_MAX)
    # summed over the worker and its Chromium: RSS counts a shared page once per process, PSS splits it
    rss_bytes: int = Field(default=0, ge=0, le=INT64_MAX)
    pss_bytes: int = Field(default=0, ge=0, le=INT64_MAX)
    outbox_depth: int = Field(default=0, ge=0, le=INT64_MAX)
    accounts: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("accounts")
    @classmethod
    def _stats_bounded(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Per-account stats are shown in admin and the API: bounded in count and size."""
        if len(value) > MAX_STATS_ACCOUNTS:
            raise ValueError(f"at most {MAX_STATS_ACCOUNTS} accounts in a heartbeat, not {len(value)}")
        size = len(json.dumps(value, ensure_ascii=False, default=str))
        if size > MAX_STATS_BYTES:
            raise ValueError(f"heartbeat stats of {size} bytes exceed {MAX_STATS_BYTES}")
        return value


class HeartbeatFrame(BaseFrame):
    TYPE = "worker:heartbeat"
    type: Literal["worker:heartbeat"]
    payload: HeartbeatPayload


class AccountStatusPayload(Record):
    account_id: Int64
    epoch: int = Field(ge=0, le=INT64_MAX)
    login_status: AccountLoginStatus = "unknown"
    runner_status: RunnerStatus = "idle"
    last_error: ErrorText = ""
    next_run_at: EpochMs | None = None
    profile: Profile | None = None
    listener_status: ListenerStatus = ""


class AccountStatusFrame(BaseFrame):
    TYPE = "worker:account:status"
    type: Literal["worker:account:status"]
    payload: AccountStatusPayload


class DataSyncPayload(Record):
    account_id: Int64
    epoch: int = Field(ge=0, le=INT64_MAX)
    seq: int = Field(ge=1, le=INT64_MAX)
    mode: Literal["delta", "snapshot"] = "delta"
    entities: Entities = Field(default_factory=Entities)
    deleted: Deleted = Field(default_factory=Deleted)


class DataSyncFrame(BaseFrame):
    TYPE = "worker:data:sync"
    type: Literal["worker:data:sync"]
    payload: DataSyncPayload


class LoginStatusPayload(Record):
    session_id: RequiredId
    account_id: Int64
    status: LoginStatusValue
    qr_image: QrImage | None = None
    expires_at: EpochMs | None = None
    message: ErrorText = ""
    storage_state: dict[str, Any] | None = None
    profile: Profile | None = None


class LoginStatusFrame(BaseFrame):
    TYPE = "worker:login:status"
    type: Literal["worker:login:status"]
    payload: LoginStatusPayload


ReplyResultStatus = Literal["sent", "failed", "unknown"]


class ReplyResultPayload(Record):
    """A reply's outcome: `sent` (the platform accepted it: `entity` / `platform_reply_id` are its
    proof), `failed` (the platform refused it, or it was never posted) or `unknown` (posted, or maybe
    posted, without proof either way: never retried blindly; a retry checks the thread first)."""

    reply_id: RequiredId
    status: ReplyResultStatus
    platform_reply_id: Id | None = None
    error_code: Name = ""
    error_message: ErrorText = ""
    entity: Comment | Message | None = None


class ReplyResultFrame(BaseFrame):
    TYPE = "worker:reply:result"
    type: Literal["worker:reply:result"]
    payload: ReplyResultPayload


# ---- hub -> worker -------------------------------------------------------------------------------


class AssignmentAccount(Record):
    id: Int64
    platform: Name
    platform_user_id: Name = ""
    nickname: Name = ""
    monitor_interval: float = Field(default=60.0, gt=0)
    storage_state: dict[str, Any] | None = None


class Assignment(Record):
    account: AssignmentAccount
    epoch: int = Field(ge=0, le=INT64_MAX)
    last_seq: int = Field(default=0, ge=0, le=INT64_MAX)


class RegisterAckPayload(Record):
    heartbeat_interval: float = Field(gt=0)
    assignments: list[Assignment] = Field(default_factory=list)
    protocol_version: Int64 = PROTOCOL_VERSION


class RegisterAckFrame(BaseFrame):
    TYPE = "master:register:ack"
    type: Literal["master:register:ack"]
    payload: RegisterAckPayload


class TaskAssignPayload(Record):
    assignment: Assignment


class TaskAssignFrame(BaseFrame):
    TYPE = "master:task:assign"
    type: Literal["master:task:assign"]
    payload: TaskAssignPayload


class TaskRevokePayload(Record):
    account_id: Int64
    epoch: int = Field(ge=0, le=INT64_MAX)


class TaskRevokeFrame(BaseFrame):
    TYPE = "master:task:revoke"
    type: Literal["master:task:revoke"]
    payload: TaskRevokePayload


class LoginStartPayload(Record):
    session_id: RequiredId
    account_id: Int64


class LoginStartFrame(BaseFrame):
    TYPE = "master:login:start"
    type: Literal["master:login:start"]
    payload: LoginStartPayload


class ReplyTarget(Record):
    kind: Literal["comment", "work", "message"]
    content_id: Id | None = None
    comment_id: Id | None = None
    conversation_id: Id | None = None


class ReplyRequestPayload(Record):
    """An agent's reply for the worker to post. `attempt` counts the agent's tries of the same reply
    (1 = the first); on a retry `verify_first` asks the worker to look for the text in the thread
    before posting (an own comment or message with the same text, whitespace ignored, created at or
    after `first_attempt_at`, the first try's creation time) and report that as the proof instead."""

    reply_id: RequiredId
    account_id: Int64
    target: ReplyTarget
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    attempt: int = Field(default=1, ge=1, le=INT64_MAX)
    first_attempt_at: EpochMs | None = None
    verify_first: bool = False


class ReplyRequestFrame(BaseFrame):
    TYPE = "master:reply:request"
    type: Literal["master:reply:request"]
    payload: ReplyRequestPayload


class ResyncPayload(Record):
    account_id: Int64


class ResyncFrame(BaseFrame):
    TYPE = "master:resync"
    type: Literal["master:resync"]
    payload: ResyncPayload


class DataSyncAckPayload(Record):
    account_id: Int64
    seq: int = Field(ge=0, le=INT64_MAX)


class DataSyncAckFrame(BaseFrame):
    TYPE = "worker:data:sync:ack"
    type: Literal["worker:data:sync:ack"]
    payload: DataSyncAckPayload


class ErrorPayload(Record):
    ref: str | None = None
    code: str
    message: ErrorText = ""


class ErrorFrame(BaseFrame):
    TYPE = "master:error"
    type: Literal["master:error"]
    payload: ErrorPayload


WORKER_FRAMES: tuple[type[BaseFrame], ...] = (
    RegisterFrame,
    HeartbeatFrame,
    AccountStatusFrame,
    DataSyncFrame,
    LoginStatusFrame,
    ReplyResultFrame,
)
HUB_FRAMES: tuple[type[BaseFrame], ...] = (
    RegisterAckFrame,
    TaskAssignFrame,
    TaskRevokeFrame,
    LoginStartFrame,
    ReplyRequestFrame,
    ResyncFrame,
    DataSyncAckFrame,
    ErrorFrame,
)
FRAME_TYPES: dict[str, type[BaseFrame]] = {cls.TYPE: cls for cls in (*WORKER_FRAMES, *HUB_FRAMES)}

Frame = Annotated[
    RegisterFrame
    | HeartbeatFrame
    | AccountStatusFrame
    | DataSyncFrame
    | LoginStatusFrame
    | ReplyResultFrame
    | RegisterAckFrame
    | TaskAssignFrame
    | TaskRevokeFrame
    | LoginStartFrame
    | ReplyRequestFrame
    | ResyncFrame
    | DataSyncAckFrame
    | ErrorFrame,
    Field(discriminator="type"),
]

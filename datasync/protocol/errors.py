"""The one error type of the protocol core; edges translate it into `master:error` or HTTP errors."""

from __future__ import annotations


class ErrorCode:
    """Stable error codes sent in `master:error` frames."""

    BAD_JSON = "bad_json"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FRAME = "invalid_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    IMPLAUSIBLE_TIME = "implausible_time"
    NOT_REGISTERED = "not_registered"
    UNEXPECTED_FRAME = "unexpected_frame"
    UNSUPPORTED_VERSION = "unsupported_version"
    WORKER_MISMATCH = "worker_mismatch"
    UNKNOWN_ACCOUNT = "unknown_account"
    NOT_ASSIGNED = "not_assigned"
    STALE_EPOCH = "stale_epoch"
    SEQ_GAP = "seq_gap"
    UNKNOWN_SESSION = "unknown_session"
    UNKNOWN_REPLY = "unknown_reply"
    INTERNAL = "internal_error"


class ProtocolError(Exception):
    """A frame was refused: `code` is one of ErrorCode, `ref` the id of the refused frame if known."""

    def __init__(self, code: str, message: str, *, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref[:100] if ref is not None else None  # never echo a huge id back (limits.MAX_REF)

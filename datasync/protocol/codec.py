"""Parsing and dumping frames: the only place frame JSON is read or written."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from datasync.protocol.errors import ErrorCode, ProtocolError
from datasync.protocol.frames import FRAME_TYPES, BaseFrame, Frame

_FRAME_ADAPTER: TypeAdapter[Any] = TypeAdapter(Frame)


def _summarise(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(p) for p in error["loc"] if p not in FRAME_TYPES)
        parts.append(f"{location or '<frame>'}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def parse_frame(raw: str | bytes, *, max_bytes: int | None = None) -> BaseFrame:
    """Decode and validate one frame; raises ProtocolError with a stable code on any problem.

    Validation is strict (no silent coercion of "1" into 1) and unknown fields are rejected.
    """
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if max_bytes is not None and size > max_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"frame of {size} bytes exceeds the limit of {max_bytes}"
        )
    try:
        frame = _FRAME_ADAPTER.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(raw, exc) from None
    assert isinstance(frame, BaseFrame)
    return frame


def _classify(raw: str | bytes, exc: ValidationError) -> ProtocolError:
    """Turn a validation failure into the most specific protocol error."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        return ProtocolError(ErrorCode.BAD_JSON, f"frame is not valid JSON: {err}")
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.INVALID_FRAME, "frame must be a JSON object")
    ref = data.get("id") if isinstance(data.get("id"), str) else None
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or frame_type not in FRAME_TYPES:
        return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {frame_type!r}", ref=ref)
    return ProtocolError(ErrorCode.INVALID_FRAME, _summarise(exc), ref=ref)


def dump_frame(frame: BaseFrame) -> str:
    """Serialise a frame to compact JSON (UTF-8 text, non-ASCII kept as is)."""
    return frame.model_dump_json(exclude_none=False)


def frame_to_dict(frame: BaseFrame) -> dict[str, Any]:
    return frame.model_dump(mode="json")


def error_frame(code: str, message: str, *, ref: str | None = None) -> BaseFrame:
    from datasync.protocol.frames import ErrorFrame

    return ErrorFrame.build(ref=ref, code=code, message=message)

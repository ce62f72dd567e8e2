"""Parsing and dumping frames: the only place frame JSON is read or written."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from datasync.protocol.errors import ErrorCode, ProtocolError
from datasync.protocol.frames import FRAME_TYPES, BaseFrame, DataSyncFrame, Frame
from datasync.protocol.limits import MAX_DEPTH, MAX_REF, json_depth_exceeds, time_problem
from datasync.protocol.records import ENTITY_KINDS, Entities

_FRAME_ADAPTER: TypeAdapter[Any] = TypeAdapter(Frame)


def _summarise(exc: ValidationError, limit: int = 5, *, offset: int = 0, prefix: tuple[str, ...] = ()) -> str:
    """The first errors as "location: message"; `prefix` and `offset` place the errors of a chunk of
    a list (index 0 of the chunk is item `offset` of the list)."""
    parts = []
    for error in exc.errors()[:limit]:
        loc = error["loc"]
        if prefix:
            loc = (*prefix, loc[0] + offset if isinstance(loc[0], int) else loc[0], *loc[1:])
        location = ".".join(str(p) for p in loc if p not in FRAME_TYPES)
        parts.append(f"{location or '<frame>'}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def _code_of(exc: ValidationError) -> str:
    return ErrorCode.INVALID_FRAME


# The record fields that hold a time the hub shows and sorts by.
_TIME_FIELDS = ("created_at", "published_at", "last_message_at")


def times_check(frame: BaseFrame) -> None:
    """The hub's plausibility check of a worker frame's times (the frame's `ts` and every record's
    time): ProtocolError `implausible_time` naming the first one outside the window
    (`limits.TIME_WINDOW`, set from settings)."""
    problem = time_problem(frame.ts)
    if problem:
        raise ProtocolError(ErrorCode.IMPLAUSIBLE_TIME, f"ts: {problem}", ref=frame.id)
    if not isinstance(frame, DataSyncFrame):
        return
    entities = frame.payload.entities
    for kind in ENTITY_KINDS:
        for index, record in enumerate(getattr(entities, kind)):
            for name in _TIME_FIELDS:
                value = getattr(record, name, None)
                if value is not None and (problem := time_problem(value)):
                    where = f"payload.entities.{kind}.{index}.{name}"
                    raise ProtocolError(ErrorCode.IMPLAUSIBLE_TIME, f"{where}: {problem}", ref=frame.id)


def parse_frame(raw: str | bytes, *, max_bytes: int | None = None) -> BaseFrame:
    """Decode and validate one frame; raises ProtocolError with a stable code on any problem.

    Validation is strict (no silent coercion of "1" into 1) and unknown fields are rejected.
    """
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if max_bytes is not None and size > max_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"frame of {size} bytes exceeds the limit of {max_bytes}"
        )
    if json_depth_exceeds(raw):
        raise ProtocolError(ErrorCode.INVALID_FRAME, f"frame nests deeper than {MAX_DEPTH} levels")
    if size > _CHUNKED_ABOVE_BYTES:
        frame = _sync_frame_parse(raw)
        if frame is not None:
            return frame
    try:
        frame = _FRAME_ADAPTER.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(raw, exc) from None
    assert isinstance(frame, BaseFrame)
    return frame


# A big sync frame's records are validated a few at a time (the same strict rules and messages):
# one validate_json call over 500 records held the GIL for ~8 ms, and every other thread of the hub
# (the database thread of the previous frame above all) waited that long at each of its round trips.
_CHUNKED_ABOVE_BYTES = 32_768
_CHUNK_RECORDS = 20
_KIND_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    kind: TypeAdapter(Entities.model_fields[kind].annotation or Any) for kind in ENTITY_KINDS
}


def _sync_frame_parse(raw: str | bytes) -> BaseFrame | None:
    """A `worker:data:sync` frame validated in chunks of records; None when `raw` is not a
    well-formed sync frame envelope (the caller's one-piece validation then reports the problem)."""
    try:
        data = from_json(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != DataSyncFrame.TYPE:
        return None
    payload = data.get("payload")
    entities = payload.get("entities") if isinstance(payload, dict) else None
    if not isinstance(entities, dict):
        return None
    lists = {k: entities.pop(k) for k in ENTITY_KINDS if isinstance(entities.get(k), list)}
    ref = str(data["id"])[:MAX_REF] if isinstance(data.get("id"), str) else None
    try:
        frame = _FRAME_ADAPTER.validate_python(data, strict=True)
    except ValidationError as exc:
        raise ProtocolError(_code_of(exc), _summarise(exc), ref=ref) from None
    assert isinstance(frame, DataSyncFrame)
    for kind, records in lists.items():
        adapter, validated = _KIND_ADAPTERS[kind], []
        for start in range(0, len(records), _CHUNK_RECORDS):
            try:
                validated.extend(
                    adapter.validate_python(records[start : start + _CHUNK_RECORDS], strict=True)
                )
            except ValidationError as exc:
                where = ("payload", "entities", kind)
                message = _summarise(exc, offset=start, prefix=where)
                raise ProtocolError(_code_of(exc), message, ref=ref) from None
        setattr(frame.payload.entities, kind, validated)
    return frame


def _classify(raw: str | bytes, exc: ValidationError) -> ProtocolError:
    """Turn a validation failure into the most specific protocol error."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        return ProtocolError(ErrorCode.BAD_JSON, f"frame is not valid JSON: {str(err)[:200]}")
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.INVALID_FRAME, "frame must be a JSON object")
    ref = str(data["id"])[:MAX_REF] if isinstance(data.get("id"), str) else None
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or frame_type not in FRAME_TYPES:
        shown = repr(frame_type)[:MAX_REF]
        return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {shown}", ref=ref)
    return ProtocolError(_code_of(exc), _summarise(exc), ref=ref)


def dump_frame(frame: BaseFrame) -> str:
    """Serialise a frame to compact JSON (UTF-8 text, non-ASCII kept as is)."""
    return frame.model_dump_json(exclude_none=False)


def frame_to_dict(frame: BaseFrame) -> dict[str, Any]:
    return frame.model_dump(mode="json")


def error_frame(code: str, message: str, *, ref: str | None = None) -> BaseFrame:
    from datasync.protocol.frames import ErrorFrame

    return ErrorFrame.build(ref=ref, code=code, message=message)

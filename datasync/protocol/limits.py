"""Limits every worker frame is held to (docs/protocol.md, "Limits").

A frame over a limit is refused whole with an error frame naming its code; the connection stays open
and nothing of the frame is applied. The nesting depth is checked on the raw text before any JSON
decoder runs (a deeply nested frame must not reach a recursive decoder); the other limits are part of
the frame models (`Annotated` types below), so the strict validation that already refuses a wrong type
refuses an oversized value the same way.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

# JSON nesting: the deepest legitimate frame (a sync frame's attachment) is 6 levels deep
MAX_DEPTH = 32
# 64-bit signed integers (what the database columns hold)
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# string lengths, in characters, by the kind of field
MAX_ID_CHARS = 200  # platform ids, frame ids, worker ids, session and reply ids
MAX_NAME_CHARS = 500  # nicknames, titles, labels, types
MAX_URL_CHARS = 4096  # avatar, cover, media and page URLs
MAX_TEXT_CHARS = 20_000  # comment, message, notification text and descriptions
# a heartbeat's per-account stats, serialised
MAX_HEARTBEAT_STATS_BYTES = 64 * 1024
MAX_HEARTBEAT_ACCOUNTS = 1000
# a refused frame's id is echoed in the error frame's `ref`, cut to this
MAX_ECHOED_ID_CHARS = 100

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Id = Annotated[str, Field(max_length=MAX_ID_CHARS)]
RequiredId = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Url = Annotated[str, Field(max_length=MAX_URL_CHARS)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]")


def nesting_depth(raw: str | bytes) -> int:
    """The deepest nesting of arrays and objects in `raw` (strings skipped); linear, no recursion.

    Unbalanced text gives the deepest point reached; the decoder reports the syntax error after."""
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return data.count(b"[") + data.count(b"{")
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", data))
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def echoed_id(frame_id: object) -> str | None:
    """A refused frame's id as it may be echoed back: a string, cut to MAX_ECHOED_ID_CHARS."""
    if not isinstance(frame_id, str):
        return None
    return frame_id[:MAX_ECHOED_ID_CHARS]

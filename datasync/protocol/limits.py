"""Protocol limits: what any frame may hold, checked while it is parsed (docs/protocol.md "Limits").

Every violation is a `master:error` with code `invalid_frame` (or `frame_too_large`) naming the field;
the connection stays open and nothing of the frame is applied. The limits keep a frame from crashing
the parser (nesting depth), the database (integers outside 64 bits) or bloating storage and answers
(string lengths, heartbeat stats size); an echoed frame id is cut to MAX_REF characters.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 32  # nesting of JSON arrays/objects in one frame (a real frame needs about 8)
MAX_REF = 100  # characters of a frame id echoed in an error
MAX_ID = 256  # a platform id (also sec_uid, item ids)
MAX_NAME = 512  # nicknames, labels, short platform strings
MAX_URL = 4096
MAX_TEXT = 20_000  # a comment, a message, a work's description
MAX_ERROR = 4_000  # an error or status message
MAX_STATS_BYTES = 262_144  # a heartbeat's per-account stats, as JSON
MAX_STATS_ACCOUNTS = 2_000

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]

# Times (epoch ms) must lie in a window around now: not older than TIME_WINDOW["past_ms"], not later
# than TIME_WINDOW["ahead_ms"] (the hub sets both from IMHUB_TIME_MAX_AGE_DAYS / IMHUB_TIME_MAX_AHEAD at
# start-up: `time_window_set`). Catches seconds sent as ms and back (year 1970 / 58,900), year 2100, 0, -1.
TIME_WINDOW = {"past_ms": 20 * 365 * 86_400_000, "ahead_ms": 86_400_000}
IMPLAUSIBLE_TIME = "implausible time"


def time_window_set(*, max_age_days: float, max_ahead_seconds: float) -> None:
    TIME_WINDOW["past_ms"] = int(max_age_days * 86_400_000)
    TIME_WINDOW["ahead_ms"] = int(max_ahead_seconds * 1000)


def _shown(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def time_problem(value: int) -> str:
    """Why `value` (epoch ms) is not a plausible time now ("" when it is)."""
    now = int(time.time() * 1000)
    if now - TIME_WINDOW["past_ms"] <= value <= now + TIME_WINDOW["ahead_ms"]:
        return ""
    return (
        f"{IMPLAUSIBLE_TIME}: {value} ({_shown(value)}) is not within "
        f"{TIME_WINDOW['past_ms'] // 86_400_000} days before and "
        f"{TIME_WINDOW['ahead_ms'] // 1000} s after now (epoch milliseconds expected)"
    )


Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Id = Annotated[str, Field(max_length=MAX_ID)]
RequiredId = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
MAX_QR_IMAGE = 1_048_576  # a login QR code as a data: URL
_URL_SCHEMES = ("http://", "https://")
_QR_DATA_PREFIXES = tuple(f"data:image/{kind};base64," for kind in ("png", "jpeg", "gif", "webp"))


def _web_url(value: str) -> str:
    """`value` if it is an http(s) URL with a host, else "": a `javascript:`, `data:` or other URL the
    inbox could be made to load or follow is never stored. A protocol-relative `//host/...` (the
    platform's CDN lists use them) becomes https. No whitespace or control characters anywhere (browsers
    strip them, which turns " javascript:" into a script URL)."""
    if value.startswith("//"):
        value = "https:" + value
    if any(ch <= " " or ch == "\x7f" for ch in value):
        return ""
    lowered = value.lower()
    if not lowered.startswith(_URL_SCHEMES) or len(lowered.split("://", 1)[1].split("/", 1)[0]) == 0:
        return ""
    return value


def _qr_image(value: str) -> str:
    """A login QR image: a base64 image data: URL or an http(s) URL, else ""."""
    if value.lower().startswith(_QR_DATA_PREFIXES):
        return value
    return _web_url(value)


# URLs: over MAX_URL is refused; a scheme other than http(s) is dropped (stored as ""), not refused, so
# one fan's odd avatar never holds back the DMs of the frame that carries it
Url = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_web_url)]
QrImage = Annotated[str, Field(max_length=MAX_QR_IMAGE), AfterValidator(_qr_image)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
ErrorText = Annotated[str, Field(max_length=MAX_ERROR)]


def json_depth_exceeds(raw: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit` (strings are skipped; the text
    need not be valid JSON). One pass, no recursion."""
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False

"""Opaque cursors (base64 of a JSON position) and bisect-based paging over sorted key lists.

A cursor names the last position a page ended at, not an offset, so items inserted while a client
walks the pages never shift what the next page holds: each item present at the start is returned
exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from typing import Any

import orjson

from datasync.store.errors import StoreQueryError


def cursor_encode(position: tuple[Any, ...]) -> str:
    # orjson writes the same compact UTF-8 JSON as json.dumps(separators=(",", ":"), ensure_ascii=False)
    # for these positions (ints and strings), several times faster
    raw = orjson.dumps(list(position))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, shape: tuple[type, ...]) -> tuple[Any, ...]:
    """Decode a cursor whose position must have the given element types, else StoreQueryError."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise StoreQueryError("cursor", "not a valid cursor") from exc
    if not isinstance(value, list) or len(value) != len(shape):
        raise StoreQueryError("cursor", "not a valid cursor for this list")
    for item, kind in zip(value, shape, strict=True):
        if kind is int and (isinstance(item, bool) or not isinstance(item, int)):
            raise StoreQueryError("cursor", "not a valid cursor for this list")
        if kind is str and not isinstance(item, str):
            raise StoreQueryError("cursor", "not a valid cursor for this list")
    return tuple(value)


def page_keys(
    keys: list[Any], *, after: tuple[Any, ...] | None, limit: int, descending: bool = True
) -> tuple[list[Any], tuple[Any, ...] | None]:
    """One page of ``keys`` (sorted ascending) after the cursor position; returns (page, next position)."""
    if descending:
        end = len(keys) if after is None else bisect_left(keys, after)
        start = max(0, end - limit)
        page = keys[start:end][::-1]
        more = start > 0
    else:
        start = 0 if after is None else bisect_right(keys, after)
        page = keys[start : start + limit]
        more = start + limit < len(keys)
    return page, (tuple(page[-1]) if page and more else None)

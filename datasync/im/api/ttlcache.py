"""A small thread-safe dict whose entries expire: the IM API's per-process caches use it."""

from __future__ import annotations

import threading
import time
from typing import Any

MAX_ENTRIES = 10_000


class TtlCache:
    """Entries live ``ttl`` seconds; the whole dict is cleared when it grows past ``max_entries``.

    ``get`` takes no lock (a dict read is atomic under the GIL), so the hot path of the read lane costs
    one lookup and one clock read.
    """

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            return default
        return entry[1]

    def get_stale(self, key: Any, grace: float, default: Any = None) -> Any:
        """The entry even if it expired, as long as it expired less than ``grace`` seconds ago: what a
        reader may fall back on while the source of truth (the database) cannot answer."""
        entry = self._data.get(key)
        if entry is None or entry[0] + grace < time.monotonic():
            return default
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.ttl, value)

    def pop(self, key: Any) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

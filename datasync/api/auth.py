"""Short-lived per-process caches for the IM API's per-request checks (token -> user, user -> accounts).

Every IM request otherwise costs two database queries before the store is touched (the DRF token
lookup and the team-visibility query), several times the store query itself. Both answers are cached
for ``TTL`` seconds, so a revoked token or a team change takes effect within that time in every process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rest_framework.authentication import TokenAuthentication

TTL = 5.0
MAX_ENTRIES = 10_000


class TtlCache:
    """A small thread-safe dict whose entries expire; cleared whole when it grows past its bound."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


token_cache = TtlCache(TTL)
visible_cache = TtlCache(TTL)


class CachedTokenAuthentication(TokenAuthentication):
    """DRF token authentication with the (user, token) pair cached for TTL seconds per process."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        cached = token_cache.get(key)
        if cached is not None:
            return cached
        pair = super().authenticate_credentials(key)
        token_cache.put(key, pair)
        return pair


def visible_account_ids(user: Any) -> frozenset[int] | None:
    """The ids of the accounts ``user`` may see (cached); None for a superuser (every account)."""
    if user.is_superuser:
        return None
    key = user.pk
    ids = visible_cache.get(key)
    if ids is None:
        from datasync.api.access import accounts_for

        ids = frozenset(accounts_for(user).values_list("id", flat=True))
        visible_cache.put(key, ids)
    return ids

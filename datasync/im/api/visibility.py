"""Who may see which account, and the account rows the IM API shows: the one home of both caches.

- ``accounts_for(user)``: the queryset of visible accounts (writes and reply lookups use it).
- ``visible_account_ids(user)``: the same as a frozenset of ids (None for a superuser: every account),
  cached per user for ``TTL`` seconds.
- ``account_directory``: every account's API row (``accounts.models.ACCOUNT_PUBLIC_FIELDS``), so ``GET /api/im/accounts/``
  is answered from memory, not from the database per request.

Both caches are dropped at once in this process when an account, a user or a team membership changes
(model signals, after the transaction commits) and when an account event arrives through the fan-out
(status changes made in any hub process); other changes reach other processes within ``TTL`` seconds.
Refreshes run in threads (the read lane calls them through ``asyncio.to_thread`` on a miss).
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import Any

from datasync.im.api.auth import run_blocking
from datasync.im.api.ttlcache import TtlCache
from datasync.store import StoreNotFound

TTL = 5.0

visible_cache = TtlCache(TTL)


def accounts_for(user: Any) -> Any:
    """The accounts ``user`` may see (superusers: all; others: their teams' accounts)."""
    from accounts.services import accounts_visible_to

    return accounts_visible_to(user)


def visible_account_ids(user: Any) -> frozenset[int] | None:
    """The ids of the accounts ``user`` may see (cached); None for a superuser (every account)."""
    if user.is_superuser:
        return None
    ids = visible_cache.get(user.pk)
    if ids is None:
        from django.db import DatabaseError

        from datasync.im.api.auth import stale_grace

        try:
            ids = frozenset(accounts_for(user).values_list("id", flat=True))
        except DatabaseError:
            stale = visible_cache.get_stale(user.pk, stale_grace())
            if stale is None:
                raise
            return stale  # the database is down: the last answer, for a bounded time
        visible_cache.put(user.pk, ids)
    return ids


def visible_account_ids_cached(user: Any) -> tuple[bool, frozenset[int] | None]:
    """(known, ids) without touching the database: known is False on a cache miss."""
    if user.is_superuser:
        return True, None
    ids = visible_cache.get(user.pk)
    return ids is not None, ids


async def visible_account_ids_async(user: Any) -> frozenset[int] | None:
    """`visible_account_ids` for the event loop: a cache hit costs no thread hop, a miss is read in
    Django's sync thread (the read lane and the agents' WebSocket)."""
    known, ids = visible_account_ids_cached(user)
    return ids if known else await run_blocking(visible_account_ids, user)


def account_check(*, visible: frozenset[int] | None, account_id: int) -> None:
    """StoreNotFound unless the account is visible (404: an invisible account is indistinguishable from
    none); for a superuser (every account visible) unless it exists (the account directory, which the
    caller keeps fresh for superusers)."""
    if visible is not None and account_id not in visible:
        raise StoreNotFound("account", account_id)
    if visible is None and account_directory.row(account_id) is None:
        raise StoreNotFound("account", account_id)


class AccountDirectory:
    """Every account's API row by id, refreshed from the database when stale (``TTL``) or invalidated."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._rows: dict[int, dict[str, Any]] = {}
        self._ids: list[int] = []
        self._fresh_until = 0.0
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self._fresh_until

    def invalidate(self) -> None:
        self._generation += 1
        self._fresh_until = 0.0

    def refresh(self) -> None:
        """Reload the rows if stale (one thread loads; the others wait for it). Blocking: call in a thread."""
        with self._lock:
            if self.fresh:
                return
            from django.db import DatabaseError

            from accounts.models import ACCOUNT_PUBLIC_FIELDS, Account

            generation = self._generation
            try:
                rows = {
                    row["id"]: row for row in Account.objects.order_by("pk").values(*ACCOUNT_PUBLIC_FIELDS)
                }
            except DatabaseError:
                if not self._rows:
                    raise
                # the database is down: keep serving the rows held, and ask again in a second
                self._fresh_until = time.monotonic() + 1.0
                return
            self._rows, self._ids = rows, sorted(rows)
            if generation == self._generation:  # not invalidated while reading
                self._fresh_until = time.monotonic() + self.ttl

    def rows(self, *, visible: frozenset[int] | None, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` rows with id > ``after``, by id; only ``visible`` ids unless None."""
        rows, ids = self._rows, self._ids
        out: list[dict[str, Any]] = []
        for pk in ids[bisect.bisect_right(ids, after) :]:
            if visible is None or pk in visible:
                out.append(rows[pk])
                if len(out) >= limit:
                    break
        return out

    def row(self, pk: int) -> dict[str, Any] | None:
        return self._rows.get(pk)


account_directory = AccountDirectory()


def visibility_invalidate(*_args: Any, **_kwargs: Any) -> None:
    """Drop both caches in this process (signal receiver and fan-out handler)."""
    visible_cache.clear()
    account_directory.invalidate()


def _after_commit(*_args: Any, **_kwargs: Any) -> None:
    from django.db import transaction

    transaction.on_commit(visibility_invalidate)


def visibility_connect_signals() -> None:
    """Invalidate on account, user and membership changes made in this process (called once at start)."""
    from django.contrib.auth.models import Group, User
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from accounts.models import Account

    for model in (Account, User, Group):
        post_save.connect(_after_commit, sender=model, dispatch_uid=f"imhub-visibility-save-{model.__name__}")
        post_delete.connect(
            _after_commit, sender=model, dispatch_uid=f"imhub-visibility-delete-{model.__name__}"
        )
    m2m_changed.connect(_after_commit, sender=User.groups.through, dispatch_uid="imhub-visibility-groups")

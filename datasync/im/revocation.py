"""Revocation reaches open sockets and every process's caches (issue 25 #2).

When a user's access may have shrunk (their API token deleted, the user deactivated or deleted, a team
membership removed, a logout), `revoked(user_id, reason)` is published to every hub process after the
transaction commits (fan-out kind `auth_revoked`). Each process then drops its token, session and
visibility caches (`auth_revoked_apply`) and re-checks every `/ws/im/` socket of that user it holds:
a credential that no longer authenticates closes the socket with 4401, a socket whose visible accounts
changed is closed with 4403 (the client reconnects and gets its new view).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Protocol

logger = logging.getLogger("datasync.im.revocation")


class Revalidating(Protocol):
    async def revalidate(self, reason: str) -> None: ...


sockets: dict[int, set[Revalidating]] = defaultdict(set)  # user id -> this process's open sockets
_checks: set[asyncio.Task[None]] = set()  # running re-checks (kept referenced until done)


def socket_register(user_id: int, socket: Revalidating) -> None:
    sockets[user_id].add(socket)


def socket_forget(user_id: int, socket: Revalidating) -> None:
    held = sockets.get(user_id)
    if held is not None:
        held.discard(socket)
        if not held:
            sockets.pop(user_id, None)


def revoked(*, user_id: int, reason: str) -> None:
    """Tell every hub process, once the current transaction commits (now, outside one)."""
    from django.db import transaction

    from datasync.fanout import fanout_publish_sync

    def send() -> None:
        try:
            fanout_publish_sync(kind="auth_revoked", data={"user_id": user_id, "reason": reason})
        except Exception:
            logger.exception("could not publish the revocation of user %s", user_id)

    transaction.on_commit(send)


def auth_revoked_apply(data: dict[str, Any]) -> None:
    """Fan-out handler: drop this process's caches, re-check the user's open sockets."""
    from datasync.im.api.auth import session_cache, token_cache
    from datasync.im.api.visibility import visibility_invalidate

    token_cache.clear()
    session_cache.clear()
    visibility_invalidate()
    user_id = int(data.get("user_id") or 0)
    reason = str(data.get("reason") or "revoked")
    held = list(sockets.get(user_id, ()))
    if not held:
        return
    logger.info("re-checking %d open socket(s) of user %s: %s", len(held), user_id, reason)
    loop = asyncio.get_running_loop()
    for socket in held:
        task = loop.create_task(socket.revalidate(reason))
        _checks.add(task)
        task.add_done_callback(_checks.discard)


def revocation_connect_signals() -> None:
    """Publish a revocation on the model changes that can take access away (called once at start)."""
    from django.contrib.auth.models import User
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from rest_framework.authtoken.models import Token

    def token_deleted(sender: Any, instance: Any, **_kwargs: Any) -> None:
        revoked(user_id=instance.user_id, reason="token deleted")

    def user_saved(sender: Any, instance: Any, created: bool = False, **_kwargs: Any) -> None:
        if not created and not instance.is_active:
            revoked(user_id=instance.pk, reason="user deactivated")

    def user_deleted(sender: Any, instance: Any, **_kwargs: Any) -> None:
        revoked(user_id=instance.pk, reason="user deleted")

    def groups_changed(
        sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **_kwargs: Any
    ) -> None:
        if action not in ("post_remove", "post_clear", "pre_clear"):
            return
        if isinstance(instance, User):
            revoked(user_id=instance.pk, reason="team membership removed")
        elif pk_set:  # a team lost members
            for user_id in pk_set:
                revoked(user_id=int(user_id), reason="team membership removed")
        elif action == "pre_clear":  # a team cleared: its members, read before they go
            for user_id in instance.user_set.values_list("pk", flat=True):
                revoked(user_id=int(user_id), reason="team membership removed")

    def logged_out(sender: Any, request: Any = None, user: Any = None, **_kwargs: Any) -> None:
        if user is not None and getattr(user, "pk", None):
            revoked(user_id=user.pk, reason="logged out")

    post_delete.connect(token_deleted, sender=Token, weak=False, dispatch_uid="imhub-revoke-token")
    post_save.connect(user_saved, sender=User, weak=False, dispatch_uid="imhub-revoke-user-saved")
    post_delete.connect(user_deleted, sender=User, weak=False, dispatch_uid="imhub-revoke-user-deleted")
    m2m_changed.connect(
        groups_changed, sender=User.groups.through, weak=False, dispatch_uid="imhub-revoke-groups"
    )
    user_logged_out.connect(logged_out, weak=False, dispatch_uid="imhub-revoke-logout")

"""InboxConsumer at ``/ws/im/``: live events for an agent's accounts. Transport only.

Authentication and visibility are the IM API's own (``api.auth.credentials_user``,
``api.visibility.visible_account_ids_async``): the session cookie (browser) or ``Authorization: Token
<key>`` (DRF token, for non-browser clients); anonymous connections are closed with 4401, a session
connection from a page of a host this hub does not serve (Origin) with 4403. ``?last_event_id=N``
resumes after event N when it is still in this process's buffer, else the client gets
``{"type": "resync_required"}`` and should reload over the IM API. After any replay the client gets
``{"type": "ready", "last_event_id": n}``, then events as they happen:
``{"event_id", "type": "new_item"|"read_mark"|"reply_status"|"account_status", "account_id", "data"}``.
Only events of accounts the user may see are sent (the set is taken at connect time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from datasync.im import revocation
from datasync.im.api.auth import credentials_user, run_blocking
from datasync.im.api.visibility import visible_account_ids_async
from datasync.im.events import AgentEvent, event_buffer, loop_subscriber

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401  # no (longer a) valid credential: also after a revocation
FORBIDDEN_ORIGIN = 4403
ACCESS_CHANGED = 4403  # the user's visible accounts changed (a team membership removed): reconnect
TOO_MANY_FAILURES = 4429  # the source is locked out after failed logins (accounts/throttle.py)
TOO_SLOW = 4008  # the client fell behind its budget (IMHUB_AGENT_QUEUE_MAX / _SEND_TIMEOUT): reconnect


def _same_origin(scope: dict[str, Any]) -> bool:
    """True unless a browser says the page comes from an origin this hub does not serve.

    Browsers always send Origin on WebSockets; non-browser clients usually send none and cannot
    carry a victim's cookie anyway, so a missing Origin is accepted. A sent Origin must match exactly,
    scheme, host and port: its host:port is the request's Host (nginx passes `$http_host`) and its scheme
    the connection's (wss, or X-Forwarded-Proto https from the proxy, means https), or it is one of CSRF_TRUSTED_ORIGINS as written. A host name alone (ALLOWED_HOSTS)
    is not enough: another port on the same host is another origin.
    """
    from django.conf import settings

    headers = dict(scope.get("headers") or ())
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    if not origin:
        return True
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip().lower()
    secure = scope.get("scheme") == "wss" or forwarded in ("https", "wss")
    if parsed.netloc.lower() == host.lower() and parsed.scheme == ("https" if secure else "http"):
        return True
    trusted = {o.rstrip("/").lower() for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])}
    return f"{parsed.scheme}://{parsed.netloc}".lower() in trusted


class InboxConsumer(AsyncJsonWebsocketConsumer):
    """One agent's live event stream."""

    # No channel layer for this consumer (an alias that is not configured: Channels then gives it none):
    # its events come from this process's buffer, never through the layer, and a socket that listened
    # on the layer died with it (a Redis restart closed every agent's socket) and cost one more
    # blocking receive per socket.
    channel_layer_alias = "imhub.agents-need-no-layer"

    user: Any = None
    credentials: dict[bytes, bytes] | None = None
    visible: frozenset[int] | None = None
    queue: asyncio.Queue[AgentEvent] | None = None
    subscriber: Any = None
    pump: asyncio.Task[None] | None = None
    send_timeout = 10.0

    async def connect(self) -> None:
        from accounts.throttle import client_address, locked_for, login_failed

        headers = dict(self.scope.get("headers") or ())
        client = self.scope.get("client") or ("?", 0)
        address = client_address(str(client[0]), headers.get(b"x-forwarded-for", b"").decode("latin-1"))
        wait = await run_blocking(lambda: locked_for(address=address))
        if wait:
            await self.accept()
            await self.close(code=TOO_MANY_FAILURES)
            return
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        user, how = await credentials_user(
            cookie=headers.get(b"cookie", b"").decode("latin-1"), authorization=authorization
        )
        if user is None and authorization:
            await run_blocking(lambda: login_failed(address=address, username="", via="websocket"))
        await self.accept()
        if how == "session" and not _same_origin(self.scope):
            # a session cookie sent by a page of another site (cross-site WebSocket hijacking)
            await self.close(code=FORBIDDEN_ORIGIN)
            return
        if user is None:
            await self.close(code=UNAUTHORIZED)
            return
        self.user = user
        self.credentials = headers
        self.visible = await visible_account_ids_async(user)
        revocation.socket_register(user.pk, self)
        from django.conf import settings

        self.queue = asyncio.Queue(maxsize=max(1, int(settings.IMHUB_AGENT_QUEUE_MAX)))
        self.send_timeout = float(settings.IMHUB_AGENT_SEND_TIMEOUT)
        self.subscriber = loop_subscriber(self.queue, on_overflow=self._too_slow)
        event_buffer.subscribe(self.subscriber)
        last_sent = await self._replay(_last_event_id(self.scope))
        self.pump = asyncio.create_task(self._pump(last_sent))

    async def _replay(self, last_event_id: int | None) -> int:
        if last_event_id is None:
            last_sent = event_buffer.last_id
        else:
            missed = event_buffer.since(last_event_id)
            if missed is None:
                await self.send_json({"type": "resync_required"})
                last_sent = event_buffer.last_id
            else:
                for event in missed:
                    if self._visible(event):
                        await self.send_json(event.as_json())
                last_sent = missed[-1].event_id if missed else last_event_id
        await self.send_json({"type": "ready", "last_event_id": last_sent})
        return last_sent

    async def _pump(self, last_sent: int) -> None:
        assert self.queue is not None
        while True:
            event = await self.queue.get()
            if event.event_id <= last_sent:
                continue  # already sent during the replay
            last_sent = event.event_id
            if self._visible(event) and self.subscriber is not None:
                try:
                    await asyncio.wait_for(self.send_json(event.as_json()), timeout=self.send_timeout)
                except TimeoutError:
                    self._too_slow()
                    return

    def _too_slow(self) -> None:
        """The client does not keep up (its queue is full, or a send blocked past the timeout): stop
        feeding it and close; it reconnects and resumes from its last id, or resyncs. Its memory is
        released at once (queue dropped, no longer subscribed)."""
        if self.subscriber is None:
            return
        event_buffer.unsubscribe(self.subscriber)
        self.subscriber = None
        if self.pump is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()  # nothing more goes out on this socket, not even what was queued
        self.queue = None
        logger.warning("closing a slow /ws/im/ socket of user %s", getattr(self.user, "pk", "?"))
        asyncio.get_running_loop().create_task(self.close(code=TOO_SLOW))

    def _visible(self, event: AgentEvent) -> bool:
        return self.visible is None or event.account_id in self.visible

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "last_event_id": event_buffer.last_id})
        else:
            await self.send_json(
                {"type": "error", "code": "unknown_message", "message": "only ping is accepted"}
            )

    async def revalidate(self, reason: str) -> None:
        """The user's access may have shrunk (`datasync.im.revocation`): a credential that no longer
        authenticates closes the socket with 4401; changed visibility closes it with 4403."""
        headers = self.credentials or {}
        user, _how = await credentials_user(
            cookie=headers.get(b"cookie", b"").decode("latin-1"),
            authorization=headers.get(b"authorization", b"").decode("latin-1"),
        )
        if user is None or user.pk != getattr(self.user, "pk", None):
            logger.info("closing a /ws/im/ socket of user %s: %s", getattr(self.user, "pk", "?"), reason)
            await self.close(code=UNAUTHORIZED)
            return
        visible = await visible_account_ids_async(user)
        if visible != self.visible:
            logger.info("closing a /ws/im/ socket of user %s: access changed (%s)", user.pk, reason)
            await self.close(code=ACCESS_CHANGED)

    async def disconnect(self, code: int) -> None:
        if self.user is not None:
            revocation.socket_forget(self.user.pk, self)
        if self.subscriber is not None:
            event_buffer.unsubscribe(self.subscriber)
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump


def _last_event_id(scope: dict[str, Any]) -> int | None:
    values = parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("last_event_id")
    if not values:
        return None
    try:
        return max(0, int(values[0]))
    except ValueError:
        return 0

"""Fan-out between hub processes over the channel layer.

Every hub process joins `FANOUT_GROUP` (see datasync.runtime); `fanout_publish` sends one message to
the group and each process runs the fan-out handlers its wiring lists for the kind (`datasync/wiring.py`).
Kinds: `sync` (an applied change, shape in docs/architecture.md; published only through
`runtime.change_publish`), `read_mark`, `reply_status`, `account_status`.

Handlers are plain callables `fn(data: dict) -> None`, called in every process (the publishing one
included) on the event loop or a sync thread: keep them quick, thread-safe and free of I/O. For `sync`,
the runtime applies the change to the DataStore first and passes the handlers the change with an extra
key `new`: the `[kind, record]` pairs that were new to this store.
"""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

FANOUT_GROUP = "datasync.fanout"
MESSAGE_TYPE = "datasync.fanout"
PROCESS_ID = uuid.uuid4().hex
# the desk's kinds: a thread's desk state (status, assignee, labels), who is viewing/typing in a thread
# "probe": a process's check that it still hears the group (datasync/runtime/watch.py); no handlers
KINDS = (
    "sync",
    "read_mark",
    "reply_status",
    "account_status",
    "auth_revoked",
    "desk_state",
    "desk_presence",
    "probe",
)


def fanout_message(*, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown fan-out kind {kind!r}")
    return {"type": MESSAGE_TYPE, "kind": kind, "data": data, "origin": PROCESS_ID}


def _single_process(layer: Any) -> bool:
    """True when the layer cannot reach another process (the in-memory layer)."""
    return isinstance(layer, InMemoryChannelLayer)


async def fanout_publish(*, kind: str, data: dict[str, Any]) -> None:
    """Send `data` to every hub process (this one included).

    A `sync` change is applied to the publishing process's store before the ack and skipped when it
    comes back; with the in-memory layer there is no other process, so it is not sent at all (the
    layer deep-copies every message, which cost ~25 ms per 500-item frame on the event loop).
    """
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    if kind == "sync" and _single_process(layer):
        return
    await layer.group_send(FANOUT_GROUP, fanout_message(kind=kind, data=data))


def fanout_publish_sync(*, kind: str, data: dict[str, Any]) -> None:
    """`fanout_publish` for sync code (views, services, frame handlers in their threads)."""
    if kind == "sync" and _single_process(get_channel_layer()):
        return  # as in fanout_publish, without the cost of a trip through the event loop
    async_to_sync(fanout_publish)(kind=kind, data=data)

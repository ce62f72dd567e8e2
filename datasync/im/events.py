"""Per-process event buffer for agents' WebSockets (``/ws/im/``).

Fan-out handlers (run in every hub process; listed in datasync/wiring.py) turn applied changes, reply
status changes and account status changes into events (read marks: datasync.im.readmarks, after applying
them). Each event gets an increasing id that also names the process life (``EventBuffer``'s tag); the last
``settings.IMHUB_EVENT_BUFFER`` events are kept so a reconnecting client can resume from its last id.
Older than that, the client gets ``resync_required`` and reloads over the IM API.

An event is an ``AgentEvent``, sent to agents as ``{"event_id": int, "type": "new_item"|"read_mark"|
"reply_status"|"account_status", "account_id": int, "data": {...}}`` (``as_json``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from datasync.protocol import ENTITY_ID_FIELDS
from datasync.store import Applied

# the desk (datasync.desk) publishes "thread" (a queue row changed or left), "thread_note" and "presence"
EventType = Literal[
    "new_item", "read_mark", "reply_status", "account_status", "thread", "thread_note", "presence"
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """One event for the agents who see ``account_id``; ids increase within a process life."""

    event_id: int
    type: EventType
    account_id: int
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """What the agents' WebSocket sends."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "account_id": self.account_id,
            "data": self.data,
        }


Subscriber = Callable[[AgentEvent], None]


TAG_BITS = 20  # an event id is (sequence << TAG_BITS) | tag: the tag names the process life


class EventBuffer:
    """A bounded ring of events plus the subscribers that get each new one.

    With a ``tag`` (the hub's buffer: random per process life), every id carries it in its low
    ``TAG_BITS`` bits, so an id issued by another process behind the same address (or by this one
    before a restart) is recognised as foreign: resuming from it asks for a resync instead of replaying
    or skipping by a number that means something else here. Ids stay below 2**53 (JavaScript numbers).
    """

    def __init__(self, size: int, *, first_id: int = 0, tag: int | None = None) -> None:
        self._lock = threading.Lock()
        self._events: deque[AgentEvent] = deque(maxlen=max(1, size))
        self._seq = first_id
        self._tag = tag
        self._subscribers: list[Subscriber] = []

    def _id(self, seq: int) -> int:
        return seq if self._tag is None else (seq << TAG_BITS) | self._tag

    @property
    def last_id(self) -> int:
        return self._id(self._seq)

    def publish(self, *, type: EventType, account_id: int, data: dict[str, Any]) -> AgentEvent:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type!r}")
        with self._lock:
            self._seq += 1
            event = AgentEvent(event_id=self._id(self._seq), type=type, account_id=int(account_id), data=data)
            self._events.append(event)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber(event)
        return event

    def since(self, last_id: int) -> list[AgentEvent] | None:
        """Events after ``last_id``; None when some of them already fell out of the buffer."""
        with self._lock:
            if self._tag is not None:
                if last_id & ((1 << TAG_BITS) - 1) != self._tag:
                    return None  # issued by another process (or life): its numbers mean nothing here
                last_seq = last_id >> TAG_BITS
            else:
                last_seq = last_id
            if last_seq > self._seq:
                return None  # an id this buffer never issued: the client saw another process life
            if last_seq == self._seq:
                return []
            if not self._events or self._events[0].event_id > self._id(last_seq + 1):
                return None
            return [e for e in self._events if e.event_id > last_id]

    def subscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            if fn in self._subscribers:
                self._subscribers.remove(fn)


def _buffer_size() -> int:
    from django.conf import settings

    return int(settings.IMHUB_EVENT_BUFFER)


def _boot_first_id() -> int:
    """The sequence starts at the boot time in seconds: with the tag (what tells process lives apart)
    it makes a reissued id of an earlier life of this process unlikely twice over."""
    return int(time.time())


def _process_tag() -> int:
    """A random non-zero tag for this process life (1 in ~10^6 that two processes share one)."""
    import secrets

    return 1 + secrets.randbelow((1 << TAG_BITS) - 1)


event_buffer = EventBuffer(_buffer_size(), first_id=_boot_first_id(), tag=_process_tag())


def loop_subscriber(
    queue: asyncio.Queue[AgentEvent], on_overflow: Callable[[], None] | None = None
) -> Subscriber:
    """A subscriber that hands events to ``queue`` on its event loop, from any thread. A bounded queue
    that is full calls ``on_overflow`` (on the loop) instead: its reader fell too far behind."""
    loop = asyncio.get_running_loop()

    def put(event: AgentEvent) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            if on_overflow is not None:
                on_overflow()

    def deliver(event: AgentEvent) -> None:
        try:
            loop.call_soon_threadsafe(put, event)
        except RuntimeError:  # the loop is closed: the consumer is gone
            pass

    return deliver


def _record_kind(kind: str) -> str:
    """What one record of an entity kind is called in an event: ``comments`` -> ``comment``."""
    return ENTITY_ID_FIELDS[kind].removesuffix("_id") if kind in ENTITY_ID_FIELDS else kind


# ---- fan-out handlers: every hub process turns fan-out messages into events -----------------------


def new_items_publish(applied: Applied) -> None:
    """`sync`: one `new_item` event per record that was new to this process's store."""
    account_id = applied.change.account_id
    for kind, record in applied.new:
        event_buffer.publish(
            type="new_item", account_id=account_id, data={"kind": _record_kind(kind), "record": record}
        )


def reply_status_publish(data: dict[str, Any]) -> None:
    event_buffer.publish(type="reply_status", account_id=int(data["account_id"]), data=data)


def account_status_publish(data: dict[str, Any]) -> None:
    account_id = data.get("id", data.get("account_id"))
    if account_id is not None:
        event_buffer.publish(type="account_status", account_id=int(account_id), data=data)

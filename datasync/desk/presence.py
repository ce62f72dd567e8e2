"""Who is viewing or typing in a thread, live, across hub processes.

An agent's page reports ``viewing`` when it opens a thread and every ``REFRESH`` seconds after, ``typing``
while the reply box changes, ``left`` when it closes the thread. ``presence_report`` fans the report out
(``desk_presence``); every process keeps the table (``presence_fanout_apply``) and tells its agents
(a ``presence`` event). An entry not refreshed within ``TTL`` seconds is gone (the page was closed
without saying so). Nothing is persisted: presence is only true while it is fresh.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from datasync.fanout import fanout_publish_sync
from datasync.im.events import event_buffer

STATES = ("viewing", "typing", "left")
REFRESH = 10
TTL = 30.0
TYPING_TTL = 8.0

_lock = threading.Lock()
_table: dict[str, dict[int, tuple[str, str, float]]] = {}  # thread -> user -> (username, state, until)


def presence_report(*, thread: str, account_id: int, user: Any, state: str) -> None:
    fanout_publish_sync(
        kind="desk_presence",
        data={
            "thread": thread,
            "account_id": account_id,
            "user_id": user.pk,
            "username": user.get_username(),
            "state": state,
        },
    )


def presence_fanout_apply(data: dict[str, Any]) -> None:
    """Fan-out handler (`desk_presence`), every process: update the table, tell the agents."""
    thread, user_id, state = str(data["thread"]), int(data["user_id"]), str(data["state"])
    if state not in STATES:
        return
    with _lock:
        users = _table.setdefault(thread, {})
        if state == "left":
            users.pop(user_id, None)
        else:
            ttl = TYPING_TTL if state == "typing" else TTL
            users[user_id] = (str(data.get("username", "")), state, time.monotonic() + ttl)
        if not users:
            _table.pop(thread, None)
    event_buffer.publish(
        type="presence", account_id=int(data["account_id"]), data={**data, "viewers": presence_of(thread)}
    )


def presence_of(thread: str) -> list[dict[str, Any]]:
    """Who is in the thread now: ``[{user_id, username, state}]`` (typing past its TTL is viewing)."""
    now = time.monotonic()
    with _lock:
        users = _table.get(thread) or {}
        out = []
        for user_id, (username, state, until) in list(users.items()):
            if until < now:
                if state != "typing" or until + TTL - TYPING_TTL < now:
                    users.pop(user_id, None)
                    continue
                state = "viewing"
            out.append({"user_id": user_id, "username": username, "state": state})
        return out

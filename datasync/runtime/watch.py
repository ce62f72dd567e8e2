"""Fan-out watch: does this process still hear the fan-out group? A broker that restarts, fails over or
is flushed forgets every group membership, silently: the process keeps serving its own frames and
never hears the others' again.

Every ``PROBE_INTERVAL`` seconds the process sends a ``probe`` to the fan-out group; its own listener
hears it (`FanoutWatch.heard`). When no probe of its own came back for ``PROBE_TIMEOUT`` seconds the
process is deaf: it joins its groups again (state ``rejoining``; ``down`` while the broker cannot be
reached). When its probes come back after such a window, whatever the group carried meanwhile was lost:
the runtime catches up from the database (``catching_up``: every account whose durable revision is ahead
of this replica is re-read and applied through the usual dispatch, so agents hear of the items), then
the state is ``ok`` again. `/healthz` and `/readyz` report the state; `/metrics` the probe's age and the
number of rejoins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from accounts.commands import ACCOUNTS_GROUP
from datasync import fanout
from datasync.runtime.threads import with_connections

logger = logging.getLogger("datasync.runtime")

PROBE_INTERVAL = 2.0
PROBE_TIMEOUT = 10.0
STATES = ("starting", "ok", "rejoining", "down", "catching_up")


class FanoutWatch:
    """This process's view of its fan-out membership."""

    def __init__(self) -> None:
        self.state = "starting"
        self.started = time.monotonic()
        self.last_heard: float | None = None
        self.rejoins = 0
        self.catch_ups = 0
        self.missed = False
        self.error: str | None = None

    def heard(self, data: dict[str, Any]) -> None:
        """The listener got a probe: one of this process's own means it is still in the group."""
        if data.get("origin") == fanout.PROCESS_ID:
            self.last_heard = time.monotonic()

    @property
    def probe_age(self) -> float:
        return time.monotonic() - (self.last_heard if self.last_heard is not None else self.started)

    @property
    def healthy(self) -> bool:
        return self.state in ("ok", "starting")

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.healthy,
            "state": self.state,
            "probe_age_s": round(self.probe_age, 1),
            "rejoins": self.rejoins,
            "catch_ups": self.catch_ups,
            **({"error": self.error} if self.error else {}),
        }


async def fanout_watch(layer: Any, channel: str, watch: FanoutWatch, catch_up: Callable[[], int]) -> None:
    """Probe, rejoin and catch up until cancelled (a task of the runtime)."""
    while True:
        await asyncio.sleep(PROBE_INTERVAL)
        try:
            await layer.group_send(
                fanout.FANOUT_GROUP,
                fanout.fanout_message(kind="probe", data={"origin": fanout.PROCESS_ID, "at": time.time()}),
            )
            sent, watch.error = True, None
        except Exception as exc:
            sent, watch.error = False, f"{type(exc).__name__}: {exc}"
        if watch.probe_age > PROBE_TIMEOUT:
            watch.missed = True
            if not sent:
                watch.state = "down"
                continue
            try:
                await layer.group_add(fanout.FANOUT_GROUP, channel)
                await layer.group_add(ACCOUNTS_GROUP, channel)
            except Exception as exc:
                watch.state, watch.error = "down", f"{type(exc).__name__}: {exc}"
                continue
            watch.rejoins += 1
            watch.state = "rejoining"
            logger.warning("fan-out: no probe heard for %.0fs; joined the groups again", watch.probe_age)
            continue
        if watch.missed:
            watch.state = "catching_up"
            try:
                reloaded = await asyncio.to_thread(with_connections(catch_up))
            except Exception:
                logger.exception("fan-out catch-up from the database failed; retrying")
                continue
            watch.missed = False
            watch.catch_ups += 1
            logger.warning("fan-out: heard again; caught up %d accounts from the database", reloaded)
        watch.state = "ok"

"""The simulator's in-memory state: accounts (worlds), sessions, QR tickets, faults, live mode, log.

All functions here are synchronous and fast; the ASGI app calls them from its single event loop.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import data
from .data import IdMaker, Sizes, World
from .signing import secret_for
from .surface import surface_parse

PUSH_KEEP = 500  # push events kept per account for a poll that comes late

SESSION_COOKIE = "sessionid"


@dataclass(frozen=True)
class SimConfig:
    seed: int = 1
    accounts: int = 3
    sizes: Sizes = field(default_factory=Sizes)
    live_rate: float = 0.0  # new items (comments and DMs alternating) per minute per account
    qr_ttl: float = 120.0
    surface: str = "default"  # variant names, comma-separated (see surface.py)


@dataclass
class Ticket:
    token: str
    created: float
    state: str = "new"  # new -> scanned -> confirmed -> used; expired when older than the TTL
    uid: str | None = None


# Risk modes (POST /__sim__/faults/risk): what an account's pages or APIs show while risk control is on.
PAGE_RISK_MODES = ("captcha", "verify_text", "verifycenter", "captcha_iframe")  # pages (APIs answer 2154)
API_RISK_MODES = ("empty", "status_8", "http_403", "http_429", "http_461", "http_471")  # APIs only
RISK_MODES = PAGE_RISK_MODES + API_RISK_MODES


@dataclass
class Faults:
    rate_limit: int = 0  # API requests per minute per session; 0 = off
    risk: dict[str, str] = field(default_factory=dict)  # uid or "*" -> one of RISK_MODES
    refuse: dict[str, str] = field(default_factory=dict)  # aweme_id -> reason
    dm_fail: set[str] = field(default_factory=set)  # uids (or "*") whose DM sends fail
    reply_throttle: set[str] = field(default_factory=set)  # uids (or "*") whose comment replies get status 8
    slow_answers: dict[str, float] = field(
        default_factory=dict
    )  # uid or "*" -> seconds a reply's answer waits

    def for_uid(self, table: dict[str, Any] | set[str], uid: str) -> Any:
        """An account's own entry of a fault table, else the "*" entry (None / False when neither)."""
        if isinstance(table, set):
            return uid in table or "*" in table
        return table.get(uid, table.get("*"))


class PushFeed:
    """One account's push events in order (`seq` from 1); the last PUSH_KEEP are kept for late polls.
    `wake` is replaced on every event, so a waiter holds the one of the moment it started waiting."""

    def __init__(self) -> None:
        self.seq = 0
        self.events: deque[tuple[int, dict[str, Any]]] = deque(maxlen=PUSH_KEEP)
        self.notices = 0  # unread comment notices (noticeUnreadCountMap["7"])
        self._wake: asyncio.Event | None = None

    def add(self, event: dict[str, Any]) -> None:
        self.seq += 1
        self.events.append((self.seq, event))
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    def waiter(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def since(self, cursor: int) -> tuple[list[dict[str, Any]], bool]:
        """Events after `cursor`, and whether some were already dropped (the page must reload)."""
        lost = bool(self.events) and self.events[0][0] > cursor + 1
        return [e for seq, e in self.events if seq > cursor], lost


class SimState:
    """Everything the simulator knows; one instance per running simulator."""

    def __init__(self, config: SimConfig, *, now: float | None = None) -> None:
        self.config = config
        self.started = now if now is not None else time.time()
        self.secret = secret_for(config.seed)
        self.rng = random.Random(f"douyin-live:{config.seed}")
        self.ids = IdMaker(random.Random(f"douyin-ids:{config.seed}"))
        self.worlds: dict[str, World] = {}
        for index in range(config.accounts):
            world = data.generate_world(
                seed=config.seed, index=index, sizes=config.sizes, now=int(self.started), ids=self.ids
            )
            self.worlds[world.owner["uid"]] = world
        self.sessions: dict[str, dict[str, Any]] = {}
        self.tickets: dict[str, Ticket] = {}
        self.faults = Faults()
        self.surfaces: dict[str, frozenset[str]] = {"*": surface_parse(config.surface)}
        self.live_rate = config.live_rate
        self.live_since = self.started
        self.live_done: dict[str, int] = {}
        self.rate_windows: dict[str, tuple[int, int]] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=2000)
        self.push: dict[str, PushFeed] = {}  # per account uid: what the chat page's IM store is pushed

    # -- push (the chat page's IM store) --------------------------------------------------------------

    def push_feed(self, uid: str) -> PushFeed:
        feed = self.push.get(uid)
        if feed is None:
            feed = self.push[uid] = PushFeed()
        return feed

    def push_add(self, uid: str, event: dict[str, Any]) -> None:
        """Queue an event for the account's open chat pages (their long poll wakes at once)."""
        self.push_feed(uid).add(event)

    # -- accounts -----------------------------------------------------------------------------------

    def world(self, uid: str) -> World:
        try:
            return self.worlds[uid]
        except KeyError:
            raise SimError(404, f"unknown account uid {uid}") from None

    # -- sessions -----------------------------------------------------------------------------------

    def session_create(self, *, uid: str) -> str:
        self.world(uid)
        token = secrets.token_hex(16)
        self.sessions[token] = {"uid": uid, "created": time.time(), "expired": False}
        return token

    def session_account(self, token: str | None) -> World | None:
        session = self.sessions.get(token or "")
        if session is None or session["expired"]:
            return None
        return self.worlds[session["uid"]]

    def sessions_expire(self, *, uid: str | None = None) -> int:
        count = 0
        for session in self.sessions.values():
            if (uid is None or session["uid"] == uid) and not session["expired"]:
                session["expired"] = True
                count += 1
        return count

    def rate_limited(self, token: str) -> bool:
        """Count one API request for the session; True when it is over the per-minute limit."""
        limit = self.faults.rate_limit
        if not limit:
            return False
        minute = int(time.time() // 60)
        start, count = self.rate_windows.get(token, (minute, 0))
        if start != minute:
            start, count = minute, 0
        count += 1
        self.rate_windows[token] = (start, count)
        return count > limit

    def surface_of(self, uid: str | None) -> frozenset[str]:
        """The surface variants served to account `uid` (None: before login, the simulator's own)."""
        return self.surfaces.get(uid or "*", self.surfaces["*"])

    def risk_mode(self, uid: str | None) -> str | None:
        return self.faults.risk.get(uid or "") or self.faults.risk.get("*")

    # -- QR tickets ---------------------------------------------------------------------------------

    def ticket_create(self) -> Ticket:
        ticket = Ticket(token=secrets.token_hex(16), created=time.time())
        self.tickets[ticket.token] = ticket
        if len(self.tickets) > 500:  # keep the newest; abandoned login pages create many
            for token in sorted(self.tickets, key=lambda t: self.tickets[t].created)[:100]:
                del self.tickets[token]
        return ticket

    def ticket_state(self, ticket: Ticket) -> str:
        if ticket.state in ("new", "scanned") and time.time() - ticket.created > self.config.qr_ttl:
            return "expired"
        return ticket.state

    def ticket(self, token: str) -> Ticket:
        ticket = self.tickets.get(token)
        if ticket is None:
            raise SimError(404, f"unknown QR ticket {token}")
        return ticket

    def ticket_scan(self, *, token: str, uid: str) -> Ticket:
        self.world(uid)
        ticket = self.ticket(token)
        if self.ticket_state(ticket) != "new":
            raise SimError(409, f"ticket is {self.ticket_state(ticket)}, not new")
        ticket.state, ticket.uid = "scanned", uid
        return ticket

    def ticket_confirm(self, *, token: str, uid: str | None = None) -> Ticket:
        ticket = self.ticket(token)
        state = self.ticket_state(ticket)
        if state == "new" and uid:
            self.ticket_scan(token=token, uid=uid)
        elif state != "scanned":
            raise SimError(409, f"ticket is {state}, not scanned")
        ticket.state = "confirmed"
        return ticket

    def ticket_newest_pending(self) -> Ticket:
        pending = [t for t in self.tickets.values() if self.ticket_state(t) in ("new", "scanned")]
        if not pending:
            raise SimError(404, "no pending QR ticket (open the login page first)")
        return max(pending, key=lambda t: t.created)

    # -- log ----------------------------------------------------------------------------------------

    def log_event(self, kind: str, **fields: Any) -> None:
        self.log.append({"kind": kind, "at": time.time(), **fields})


class SimError(Exception):
    """A control or API request the simulator refuses: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

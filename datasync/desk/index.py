"""ThreadIndex: each hub process's in-memory support queue over every account's threads.

Pure Python, no Django, no I/O. A row joins two sources: the thread's activity (``activity_set``, the
store's summary: customer, latest item, last inbound/outbound time, waiting since, unread) and the
desk's own state (``state_set``: the status an agent set and when, snooze time, assignee, labels).

The status agents see is derived, so it never needs a writer to keep it true:
- the newest of (status set, customer wrote, account answered) decides: the customer wrote last ->
  ``open`` (an inbound message reopens a resolved, pending or snoozed thread); the account answered
  last -> ``pending`` (answered, waiting on the customer); the agent's status is newest -> that status;
- a snooze whose time has passed is ``open`` (``snoozes_due`` finds them for the periodic re-check).

The queue is sorted by waiting time: a thread waiting on us sorts by the time the customer's oldest
unanswered item came (``waiting_since``), any other by its latest item. Sorted lists are kept per status
(and over all), each also narrowed by one facet (kind, assignee, account, unread); a page walks the
shortest list that holds every candidate from the cursor and filters the rest (label, customer, the
other facets), so a view costs about its page's rows, not the queue's size. Counts per (account,
status, assignee) are kept as the rows change, so the view tabs cost one pass over the user's accounts.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from datasync.jsonbytes import RawJSON

STATUSES: tuple[str, ...] = ("open", "pending", "snoozed", "resolved")
KINDS: tuple[str, ...] = ("dm", "comment")
SortKey = tuple[int, str]


def thread_id(account_id: int, kind: str, key: str) -> str:
    """The API's id of a thread: ``<account id>:<dm|comment>:<conversation or top comment id>``."""
    return f"{account_id}:{kind}:{key}"


def thread_id_parse(value: str) -> tuple[int, str, str] | None:
    """(account id, kind, key) of a thread id, or None when it is not one."""
    parts = value.split(":", 2)
    if (
        len(parts) != 3
        or not (parts[0].isascii() and parts[0].isdigit())
        or parts[1] not in KINDS
        or not parts[2]
    ):
        return None
    return int(parts[0]), parts[1], parts[2]


@dataclass(slots=True)
class DeskState:
    """What agents set on a thread (persisted by the desk: ``models.ThreadState``)."""

    status: str = "open"
    status_at: int = 0  # epoch ms
    snoozed_until: int | None = None
    assignee_id: int | None = None
    labels: tuple[str, ...] = ()
    last_agent_id: int | None = None  # who last replied through the hub


@dataclass(slots=True)
class ThreadRow:
    """One thread of the queue."""

    id: str
    account_id: int
    kind: str
    key: str
    activity: dict[str, Any]
    state: DeskState = field(default_factory=DeskState)
    status: str = "open"
    since: int = 0
    # ``as_json`` rendered once, until the row changes (every change ends in ``derive``)
    rendered: RawJSON | None = None

    def derive(self, now: int) -> None:
        self.rendered = None
        a, s = self.activity, self.state
        last_in, last_out = a["last_in_at"] or 0, a["last_out_at"] or 0
        if last_in > s.status_at and last_in >= last_out:
            status = "open"
        elif last_out > s.status_at and last_out > last_in:
            status = "pending"
        else:
            status = s.status
        if status == "snoozed" and (s.snoozed_until is None or s.snoozed_until <= now):
            status = "open"
        self.status = status
        waiting = a["waiting_since"]
        if waiting is not None and s.status_at > waiting:
            # resolved (or set pending/snoozed) while the customer waited: the wait counts from their
            # first item after that (the capped run of times; its oldest when all came later)
            later = [t for t in a.get("waiting_run", ()) if t > s.status_at]
            waiting = later[0] if later else (None if status != "open" else waiting)
        self.since = waiting if waiting is not None else a["last_at"]

    @property
    def sort_key(self) -> SortKey:
        return (self.since, self.id)

    def as_raw(self) -> RawJSON:
        """The row's JSON, rendered at most once per change: a queue page embeds it as is."""
        rendered = self.rendered
        if rendered is None:
            rendered = self.rendered = RawJSON.of(self.as_json())
        return rendered

    def as_json(self) -> dict[str, Any]:
        a, s = self.activity, self.state
        return {
            "id": self.id,
            "account_id": self.account_id,
            "kind": self.kind,
            "key": self.key,
            "content_id": a.get("content_id"),
            "customer": a.get("customer"),
            "status": self.status,
            "snoozed_until": s.snoozed_until if self.status == "snoozed" else None,
            "assignee_id": s.assignee_id,
            "labels": list(s.labels),
            "last_agent_id": s.last_agent_id,
            "last_at": a["last_at"],
            "last_text": a["last_text"],
            "last_media": a.get("last_media", ""),
            "last_direction": a["last_direction"],
            "last_in_at": a["last_in_at"],
            "last_out_at": a["last_out_at"],
            "waiting_since": self.since if self.status == "open" and a["waiting_since"] is not None else None,
            "unread": a["unread"],
            "items": a["items"],
            "sort_time": self.since,
        }


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What a queue page keeps; None means any."""

    status: str | None = "open"
    account_id: int | None = None
    assignee: int | None = None  # a user id
    unassigned: bool = False
    kind: str | None = None
    unread: bool | None = None
    label: str | None = None
    customer_id: str | None = None

    def keeps(self, row: ThreadRow, visible: frozenset[int] | None) -> bool:
        if visible is not None and row.account_id not in visible:
            return False
        if self.account_id is not None and row.account_id != self.account_id:
            return False
        if self.status is not None and row.status != self.status:
            return False
        if self.unassigned and row.state.assignee_id is not None:
            return False
        if self.assignee is not None and row.state.assignee_id != self.assignee:
            return False
        if self.kind is not None and row.kind != self.kind:
            return False
        if self.unread is not None and (row.activity["unread"] > 0) != self.unread:
            return False
        if self.label is not None and self.label not in row.state.labels:
            return False
        customer = row.activity.get("customer") or {}
        return self.customer_id is None or customer.get("id") == self.customer_id


Listener = Callable[[ThreadRow | None, str], None]  # (the row after the change or None if gone, id)


class ThreadIndex:
    """Every thread's row, sorted per status by waiting time; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rows: dict[str, ThreadRow] = {}
        self._states: dict[str, DeskState] = {}  # also for threads without activity yet
        # (status or None for any) -> sorted keys, plus the same narrowed by one facet:
        # (status, facet, value) for facet in kind / assignee / account / unread
        self._sorted: dict[Any, list[SortKey]] = {None: [], **{s: [] for s in STATUSES}}
        self._counts: Counter[tuple[int, str, int | None]] = Counter()
        self._listeners: list[Listener] = []
        self._muted = False
        self._deferred = False  # a bulk load: lists and counts are rebuilt once at its end
        self._by_customer: dict[str, set[str]] = {}  # customer id -> thread ids (the customer panel)
        # counts every change of a row's place, content or state: readers that keep a rendered page
        # (the read lane) keep it while this stays the same
        self._revision = 0

    def __len__(self) -> int:
        return len(self._rows)

    def revision(self) -> int:
        """A number that changes with every change of any row (read without the lock: an int)."""
        return self._revision

    def listen(self, fn: Listener) -> None:
        self._listeners.append(fn)

    # ---- writes ---------------------------------------------------------------------------------

    @staticmethod
    def _lists_of(row: ThreadRow) -> list[Any]:
        """Every sorted list the row belongs in."""
        facets = (
            ("kind", row.kind),
            ("assignee", row.state.assignee_id),
            ("account", row.account_id),
            ("unread", row.activity["unread"] > 0),
        )
        names: list[Any] = [None, row.status]
        for status in (None, row.status):
            names.extend((status, facet, value) for facet, value in facets)
        return names

    def _unlink(self, row: ThreadRow) -> None:
        self._revision += 1
        if self._deferred:
            return
        customer = _customer_id(row)
        if customer:
            self._by_customer.get(customer, set()).discard(row.id)
        key = row.sort_key
        for name in self._lists_of(row):
            keys = self._sorted.get(name)
            if keys is None:
                continue
            at = bisect_left(keys, key)
            if at < len(keys) and keys[at] == key:
                del keys[at]
            if not keys and isinstance(name, tuple):
                del self._sorted[name]
        self._counts[(row.account_id, row.status, row.state.assignee_id)] -= 1

    def _link(self, row: ThreadRow) -> None:
        self._revision += 1
        if self._deferred:
            return
        customer = _customer_id(row)
        if customer:
            self._by_customer.setdefault(customer, set()).add(row.id)
        key = row.sort_key
        for name in self._lists_of(row):
            insort(self._sorted.setdefault(name, []), key)
        self._counts[(row.account_id, row.status, row.state.assignee_id)] += 1

    def _narrowest(self, where: QueueFilter) -> list[SortKey]:
        """The shortest sorted list holding every row the filter may keep (the filter still runs)."""
        status = where.status
        candidates = [self._sorted.get(status, [])]
        facets: list[tuple[str, Any]] = []
        if where.kind is not None:
            facets.append(("kind", where.kind))
        if where.unassigned:
            facets.append(("assignee", None))
        elif where.assignee is not None:
            facets.append(("assignee", where.assignee))
        if where.account_id is not None:
            facets.append(("account", where.account_id))
        if where.unread is not None:
            facets.append(("unread", where.unread))
        for facet, value in facets:
            candidates.append(self._sorted.get((status, facet, value), []))
        return min(candidates, key=len)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Rows and states put in place inside are sorted into the lists once, at the end (inserting
        each into ten growing sorted lists made the start-up build quadratic: 12 s for 1M items); no
        listener hears of them."""
        with self.muted():
            self._deferred = True
            try:
                yield
            finally:
                self._deferred = False
                self._rebuild()

    def _rebuild(self) -> None:
        with self._lock:
            lists: dict[Any, list[SortKey]] = {None: [], **{s: [] for s in STATUSES}}
            counts: Counter[tuple[int, str, int | None]] = Counter()
            by_customer: dict[str, set[str]] = {}
            for row in self._rows.values():
                customer = _customer_id(row)
                if customer:
                    by_customer.setdefault(customer, set()).add(row.id)
                key = row.sort_key
                for name in self._lists_of(row):
                    lists.setdefault(name, []).append(key)
                counts[(row.account_id, row.status, row.state.assignee_id)] += 1
            for keys in lists.values():
                keys.sort()
            self._sorted, self._counts, self._by_customer = lists, counts, by_customer
            self._revision += 1

    @contextmanager
    def muted(self) -> Iterator[None]:
        """No listener hears of the changes made inside (the start-up build)."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def _changed(self, row: ThreadRow | None, ident: str) -> None:
        if self._muted:
            return
        for fn in list(self._listeners):
            fn(row, ident)

    def activity_set(
        self, account_id: int, summaries: dict[tuple[str, str], dict[str, Any] | None], *, now: int
    ) -> list[ThreadRow | None]:
        """Replace the activity of threads (None: the thread has no inbound item or is gone)."""
        changed: list[tuple[ThreadRow | None, str]] = []
        with self._lock:
            for (kind, key), summary in summaries.items():
                ident = thread_id(account_id, kind, key)
                row = self._rows.get(ident)
                if row is not None:
                    self._unlink(row)
                if summary is None:
                    if row is not None:
                        del self._rows[ident]
                        changed.append((None, ident))
                    continue
                if row is None:
                    row = ThreadRow(
                        ident, account_id, kind, key, summary, self._states.get(ident, DeskState())
                    )
                    self._rows[ident] = row
                elif row.activity == summary:
                    self._link(row)
                    continue
                row.activity = summary
                row.derive(now)
                self._link(row)
                changed.append((row, ident))
        for row, ident in changed:
            self._changed(row, ident)
        return [row for row, _ in changed]

    def state_set(self, ident: str, state: DeskState, *, now: int) -> ThreadRow | None:
        """Put the desk's state of a thread in place; returns its row (None without activity)."""
        with self._lock:
            if self._states.get(ident) == state:
                return self._rows.get(ident)  # already in place (the sender hears its own fan-out)
            self._states[ident] = state
            row = self._rows.get(ident)
            if row is None:
                return None
            self._unlink(row)
            row.state = state
            row.derive(now)
            self._link(row)
        self._changed(row, ident)
        return row

    def snoozes_due(self, now: int) -> list[str]:
        """Ids of snoozed threads whose time has come."""
        with self._lock:  # the snoozed list only, not every row
            snoozed = (self._rows[ident] for _, ident in self._sorted["snoozed"])
            return [row.id for row in snoozed if (row.state.snoozed_until or 0) <= now]

    def rederive(self, idents: Iterable[str], *, now: int) -> None:
        with self._lock:
            rows = [self._rows[i] for i in idents if i in self._rows]
            for row in rows:
                self._unlink(row)
                row.derive(now)
                self._link(row)
        for row in rows:
            self._changed(row, row.id)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._states.clear()
            self._sorted = {None: [], **{s: [] for s in STATUSES}}
            self._by_customer.clear()
            self._counts.clear()
            self._revision += 1

    # ---- reads ----------------------------------------------------------------------------------

    def get(self, ident: str) -> ThreadRow | None:
        with self._lock:
            return self._rows.get(ident)

    def page(
        self,
        *,
        where: QueueFilter,
        visible: frozenset[int] | None,
        after: SortKey | None,
        limit: int,
        newest_first: bool = False,
        rendered: bool = False,
    ) -> tuple[list[Any], SortKey | None]:
        """Up to ``limit`` rows after the cursor key, longest waiting first (or newest first): dicts,
        or with ``rendered`` each row's ``RawJSON`` (kept until the row changes)."""
        with self._lock:
            keys = self._narrowest(where)
            rows = self._rows
            out: list[Any] = []
            render = ThreadRow.as_raw if rendered else ThreadRow.as_json
            last: SortKey | None = None
            if newest_first:
                position = len(keys) if after is None else bisect_left(keys, after)
                while position > 0:
                    position -= 1
                    row = rows[keys[position][1]]
                    if where.keeps(row, visible):
                        if len(out) == limit:
                            return out, last
                        out.append(render(row))
                        last = keys[position]
                return out, None
            start = 0 if after is None else bisect_right(keys, after)
            for at in range(start, len(keys)):
                key = keys[at]
                row = rows[key[1]]
                if where.keeps(row, visible):
                    if len(out) == limit:
                        return out, last
                    out.append(render(row))
                    last = key
            return out, None

    def matching(self, *, where: QueueFilter, visible: frozenset[int] | None, cap: int) -> list[str]:
        """Ids of every row the filter keeps (at most ``cap``): bulk actions on "all matching"."""
        with self._lock:
            out = []
            for _, ident in self._narrowest(where):
                if where.keeps(self._rows[ident], visible):
                    out.append(ident)
                    if len(out) >= cap:
                        break
            return out

    def counts(self, *, visible: frozenset[int] | None, user_id: int | None) -> dict[str, Any]:
        """Rows per status over the visible accounts, with "mine" and "unassigned" per status."""
        by_status = dict.fromkeys(STATUSES, 0)
        mine = dict.fromkeys(STATUSES, 0)
        unassigned = dict.fromkeys(STATUSES, 0)
        with self._lock:
            for (account_id, status, assignee), count in self._counts.items():
                if count <= 0 or (visible is not None and account_id not in visible):
                    continue
                by_status[status] += count
                if assignee is None:
                    unassigned[status] += count
                elif assignee == user_id:
                    mine[status] += count
        return {"all": by_status, "mine": mine, "unassigned": unassigned}

    def customer_threads(self, customer_id: str, visible: frozenset[int] | None) -> list[dict[str, Any]]:
        """Every visible thread of one customer (their other threads across the team's accounts)."""
        with self._lock:
            rows = (self._rows[ident] for ident in self._by_customer.get(customer_id, ()))
            return [row.as_json() for row in rows if visible is None or row.account_id in visible]


def _customer_id(row: ThreadRow) -> str:
    return str((row.activity.get("customer") or {}).get("id") or "")

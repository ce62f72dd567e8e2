"""ThreadIndex against a brute-force model: random activity and state changes, then every filter's
pages must equal sorting and filtering all rows by hand (the narrowed lists never drift)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from datasync.desk.index import DeskState, QueueFilter, ThreadIndex, ThreadRow


def _summary(rng: random.Random, t: int) -> dict[str, Any] | None:
    if rng.random() < 0.1:
        return None
    last_in = t - rng.randrange(0, 1000)
    last_out = rng.choice([None, t - rng.randrange(0, 2000)])
    waiting = None if last_out is not None and last_out > last_in else last_in - rng.randrange(0, 100)
    return {
        "last_at": max(last_in, last_out or 0),
        "last_text": "x",
        "last_direction": "in",
        "first_in_at": last_in - 5000,
        "last_in_at": last_in,
        "last_out_at": last_out,
        "waiting_since": waiting,
        "waiting_run": (waiting,) if waiting else (),
        "unread": rng.choice([0, 0, 1, 3]),
        "items": 3,
        "kind": "dm",
        "key": "k",
        "content_id": None,
        "customer": {"id": f"u{rng.randrange(5)}", "nickname": "n"},
    }


def _brute(rows: list[ThreadRow], where: QueueFilter, visible: frozenset[int] | None) -> list[str]:
    kept = sorted(r.sort_key for r in rows if where.keeps(r, visible))
    return [ident for _, ident in kept]


def _walk(index: ThreadIndex, where: QueueFilter, visible: frozenset[int] | None, limit: int) -> list[str]:
    out: list[str] = []
    after = None
    while True:
        page, after = index.page(where=where, visible=visible, after=after, limit=limit)
        out.extend(row["id"] for row in page)
        if after is None:
            return out


def _random_changes(index: ThreadIndex, seed: int) -> None:
    rng = random.Random(seed)
    t = 1_000_000
    for _ in range(600):
        t += rng.randrange(1, 50)
        account = rng.randrange(1, 4)
        kind = rng.choice(["dm", "comment"])
        key = f"t{rng.randrange(40)}"
        if rng.random() < 0.7:
            index.activity_set(account, {(kind, key): _summary(rng, t)}, now=t)
        else:
            state = DeskState(
                status=rng.choice(["open", "pending", "resolved", "snoozed"]),
                status_at=t - rng.randrange(0, 1500),
                snoozed_until=t + rng.choice([-10, 500]),
                assignee_id=rng.choice([None, 7, 8]),
                labels=tuple(rng.sample(["vip", "refund"], rng.randrange(3))),
            )
            index.state_set(f"{account}:{kind}:{key}", state, now=t)


FILTERS = [
    QueueFilter(),
    QueueFilter(status=None),
    QueueFilter(status="pending", kind="comment"),
    QueueFilter(status=None, unassigned=True),
    QueueFilter(assignee=7, unread=True),
    QueueFilter(status="resolved", account_id=2, label="vip"),
    QueueFilter(status=None, customer_id="u3", kind="dm"),
]


@pytest.mark.parametrize("seed", range(5))
def test_pages_equal_a_brute_force_filter_after_random_changes(seed: int) -> None:
    index = ThreadIndex()
    _random_changes(index, seed)
    rows = [
        r
        for r in (index.get(f"{a}:{k}:t{n}") for a in (1, 2, 3) for k in ("dm", "comment") for n in range(40))
        if r
    ]
    for where in FILTERS:
        for visible in (None, frozenset({1, 3})):
            assert _walk(index, where, visible, limit=7) == _brute(rows, where, visible), where
    for customer in (f"u{n}" for n in range(5)):
        want = sorted(r.id for r in rows if (r.activity.get("customer") or {}).get("id") == customer)
        assert sorted(t["id"] for t in index.customer_threads(customer, None)) == want
    counts = index.counts(visible=None, user_id=7)
    assert sum(counts["all"].values()) == len(rows)
    assert counts["mine"]["open"] == sum(1 for r in rows if r.status == "open" and r.state.assignee_id == 7)


@pytest.mark.parametrize("seed", range(3))
def test_a_bulk_load_ends_in_the_same_queue_as_one_change_at_a_time(seed: int) -> None:
    # given the same changes applied one at a time, and inside a bulk load (the start-up build)
    one_by_one, bulk = ThreadIndex(), ThreadIndex()
    _random_changes(one_by_one, seed)
    heard: list[str] = []
    bulk.listen(lambda row, ident: heard.append(ident))
    with bulk.bulk_load():
        _random_changes(bulk, seed)
    # then every view pages the same, the counts agree, and no listener heard of the load
    for where in FILTERS:
        assert _walk(bulk, where, None, limit=5) == _walk(one_by_one, where, None, limit=5), where
    assert bulk.counts(visible=None, user_id=7) == one_by_one.counts(visible=None, user_id=7)
    assert sorted(t["id"] for t in bulk.customer_threads("u1", None)) == sorted(
        t["id"] for t in one_by_one.customer_threads("u1", None)
    )
    assert heard == []

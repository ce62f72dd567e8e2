"""Runtime start-up: buffer while loading, load from the database, replay only newer changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from accounts.models import Account
from datasync import fanout, stats
from datasync.models import SyncState
from datasync.persistence import entities_upsert
from datasync.runtime import Runtime, Wiring, runtime
from datasync.store import Applied, Change
from tests.datasync.records import comment


def _with_sync_handler(rewire: Callable[..., None], fn: Any) -> None:
    """This process's wiring with `fn` as one more `sync` fan-out handler, for one test."""
    handlers = runtime.wiring.fanout_handlers
    rewire(fanout_handlers={**handlers, "sync": (*handlers["sync"], fn)})


def _change(account_id: int, seq: int, *ids: str) -> Change:
    return Change(
        account_id=account_id, seq=seq, upserts={"comments": [comment(i) for i in ids]}, applied_at=1
    )


@pytest.mark.django_db
def test_changes_buffered_during_the_load_are_replayed_only_when_newer() -> None:
    # given rows up to seq 2 in the database
    account = Account.objects.create(nickname="a")
    entities_upsert(account_id=account.id, upserts={"comments": [comment("k1"), comment("k2")]})
    SyncState.objects.create(account=account, last_seq=2)
    seen: list[tuple[int, list[Any]]] = []

    def on_sync(applied: Applied) -> None:
        seen.append((applied.change.seq, applied.new))

    loading = Runtime()
    loading.build(Wiring(fanout_handlers={"sync": (on_sync,)}))
    loading.loading()

    # when changes with seq 1 (older), 2 (the loaded one) and 3 (newer) arrive before the load finishes
    loading.deliver(kind="sync", data=_change(account.id, 1, "k0"))
    loading.deliver(kind="sync", data=_change(account.id, 2, "k2"))
    loading.deliver(kind="sync", data=_change(account.id, 3, "k3"))
    loading.load_now()

    # then seq 1 is skipped, seq 2 is re-applied with nothing new, seq 3 adds k3
    assert loading.ready
    assert loading.loaded_rows == 2
    assert loading.store.account_totals(account.id)["comments"] == 3
    assert [(seq, [(kind, r["comment_id"]) for kind, r in new]) for seq, new in seen] == [
        (2, []),
        (3, [("comments", "k3")]),
    ]


@pytest.mark.django_db(transaction=True)
async def test_a_change_from_another_process_reaches_this_store_through_the_group() -> None:
    # given this process's runtime started and loaded (in-memory layer)
    await runtime.stop()
    await runtime.ensure_ready()
    try:
        # when another process publishes a sync change to the fan-out group
        message = fanout.fanout_message(kind="sync", data=_change(41, 1, "k1", "k2").as_message())
        message["origin"] = "another-process"
        await get_channel_layer().group_send(fanout.FANOUT_GROUP, message)
        for _ in range(200):
            if runtime.store.account_totals(41)["comments"] == 2:
                break
            await asyncio.sleep(0.01)

        # then this process's store has the records
        assert runtime.store.account_totals(41)["comments"] == 2
    finally:
        await runtime.stop()


@pytest.mark.django_db(transaction=True)
async def test_this_processs_own_sync_messages_are_not_applied_twice(
    rewire: Callable[..., None],
) -> None:
    # given a started runtime and a handler counting sync dispatches
    await runtime.stop()
    seen: list[int] = []
    _with_sync_handler(rewire, lambda applied: seen.append(applied.change.seq))
    await runtime.ensure_ready()
    try:
        # when a change is delivered locally and also comes back through the group with our origin
        change = _change(42, 1, "k1")
        runtime.deliver(kind="sync", data=change)
        message = fanout.fanout_message(kind="sync", data=change.as_message())
        await get_channel_layer().group_send(fanout.FANOUT_GROUP, message)
        await fanout.fanout_publish(kind="read_mark", data={"account_id": 42})
        for _ in range(100):
            await asyncio.sleep(0.01)

        # then it was dispatched once
        assert seen == [1]
    finally:
        await runtime.stop()


@pytest.mark.django_db(transaction=True)
async def test_a_failed_load_is_retried_until_the_store_is_ready(
    monkeypatch: pytest.MonkeyPatch, rewire: Callable[..., None]
) -> None:
    # given a loader that fails on the first attempt
    await runtime.stop()
    calls: list[int] = []

    def flaky(store: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    rewire(loaders=(flaky,))
    monkeypatch.setattr("datasync.runtime.process.LOAD_RETRY", 0.01)
    try:
        # when the runtime starts
        await runtime.ensure_ready(timeout=30)

        # then it retried, is ready, and the error is cleared
        assert len(calls) == 2
        assert runtime.ready
        assert runtime.load_error is None
    finally:
        await runtime.stop()


@pytest.mark.django_db(transaction=True)
async def test_a_seq_gap_in_the_fan_out_is_counted_and_the_account_reloaded() -> None:
    # given a started runtime with an emptied store, the account loaded at seq 3, and seq 5 never arriving
    await runtime.stop()
    stats.stats_reset()

    def seed() -> int:
        account = Account.objects.create(nickname="gap")
        entities_upsert(
            account_id=account.id, upserts={"comments": [comment("k1"), comment("k2"), comment("k3")]}
        )
        SyncState.objects.create(account=account, last_seq=3)
        return account.id

    account_id = await database_sync_to_async(seed)()
    await runtime.ensure_ready()
    runtime.store.clear()
    try:
        # when seq 4 and then seq 6 arrive from another process
        for change in (_change(account_id, 4, "k1"), _change(account_id, 6, "k3")):
            message = fanout.fanout_message(kind="sync", data=change.as_message())
            message["origin"] = "another-process"
            await get_channel_layer().group_send(fanout.FANOUT_GROUP, message)
        for _ in range(500):
            if runtime.store.account_totals(account_id)["comments"] == 3:
                break
            await asyncio.sleep(0.01)

        # then the gap is counted and the missed row came back from the database
        assert stats.stats_process()["fanout_gaps"] == 1
        assert runtime.store.account_totals(account_id)["comments"] == 3
    finally:
        await runtime.stop()


@pytest.mark.django_db(transaction=True)
async def test_a_gap_repair_announces_the_items_the_lost_change_carried() -> None:
    # given a started runtime holding k1 at seq 4, an agents' event listener, and a process that stored
    # seq 5 (k2) in the database but died before publishing it
    from datasync.im.events import event_buffer

    await runtime.stop()

    def seed() -> int:
        account = Account.objects.create(nickname="gap-announce")
        entities_upsert(account_id=account.id, upserts={"comments": [comment("k1")]})
        SyncState.objects.create(account=account, last_seq=4)
        return account.id

    account_id = await database_sync_to_async(seed)()
    await runtime.ensure_ready()
    heard: list[Any] = []
    event_buffer.subscribe(heard.append)
    try:
        await database_sync_to_async(entities_upsert)(
            account_id=account_id, upserts={"comments": [comment("k2")]}
        )
        await database_sync_to_async(SyncState.objects.filter(account_id=account_id).update)(last_seq=5)
        # when seq 6 (k3) arrives from another process: seq 5 is the gap
        message = fanout.fanout_message(kind="sync", data=_change(account_id, 6, "k3").as_message())
        message["origin"] = "another-process"
        await get_channel_layer().group_send(fanout.FANOUT_GROUP, message)
        for _ in range(500):
            if {"k2", "k3"} <= _new_comment_ids(heard, account_id):
                break
            await asyncio.sleep(0.01)
        # then the agents heard of k2 too (the repair went through the fan-out handlers), each item once
        assert _new_comment_ids(heard, account_id) == {"k2", "k3"}
        assert sorted(_new_comment_list(heard, account_id)) == ["k2", "k3"]
    finally:
        event_buffer.unsubscribe(heard.append)
        await runtime.stop()


def _new_comment_list(events: list[Any], account_id: int) -> list[str]:
    return [
        e.data["record"]["comment_id"]
        for e in events
        if e.type == "new_item" and e.account_id == account_id and e.data["kind"] == "comment"
    ]


def _new_comment_ids(events: list[Any], account_id: int) -> set[str]:
    return set(_new_comment_list(events, account_id))

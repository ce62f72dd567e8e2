"""Bulk upsert, merge-never-replace, deletions and loading rows back into a DataStore."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Account
from datasync.models import Entity, SyncState
from datasync.persistence import (
    entities_delete,
    entities_upsert,
    entity_counts,
    record_merge,
    store_load_account,
)
from datasync.store import Change, DataStore
from tests.datasync.records import comment, conversation, message

pytestmark = pytest.mark.django_db


def test_record_merge_keeps_known_values_when_the_newer_crawl_has_none() -> None:
    # given a stored conversation and a newer crawl that misses last_message_at
    old = conversation("conv1", last_message_at=1000, preview="旧")
    new = conversation("conv1", last_message_at=None, preview="新")

    # when merged
    merged = record_merge(old=old, new=new)

    # then the new preview wins and the known time is kept
    assert merged["last_message_preview"] == "新"
    assert merged["last_message_at"] == 1000


def test_upsert_twice_keeps_one_row_per_id_with_the_newest_platform_fields() -> None:
    # given an account
    account = Account.objects.create(nickname="a")

    # when the same comment is upserted twice with a new like count
    with transaction.atomic():
        entities_upsert(account_id=account.id, upserts={"comments": [comment("k1", likes=1)]})
    with transaction.atomic():
        applied = entities_upsert(account_id=account.id, upserts={"comments": [comment("k1", likes=5)]})

    # then there is one row, holding the newest value, and the merged record is returned
    rows = list(
        Entity.objects.filter(account=account).values_list("kind", "platform_id", "parent_key", "sort_at")
    )
    assert rows == [("comments", "k1", "c1", 1_764_000_000_000)]
    assert Entity.objects.get(account=account).record["likes"] == 5
    assert applied == {"comments": [comment("k1", likes=5)]}


def test_duplicate_ids_within_one_upsert_merge_in_order() -> None:
    # given an account
    account = Account.objects.create(nickname="a")

    # when one call carries the same message twice
    with transaction.atomic():
        applied = entities_upsert(
            account_id=account.id, upserts={"messages": [message("m1", text="一"), message("m1", text="二")]}
        )

    # then the later one wins
    assert applied == {"messages": [message("m1", text="二")]}
    assert Entity.objects.get(account=account).record["text"] == "二"


def test_delete_removes_only_the_named_ids_of_that_account() -> None:
    # given two accounts with the same comment id
    first = Account.objects.create(nickname="a")
    second = Account.objects.create(nickname="b")
    for account in (first, second):
        entities_upsert(account_id=account.id, upserts={"comments": [comment("k1"), comment("k2")]})

    # when k1 is deleted from the first account (plus an id that does not exist)
    removed = entities_delete(account_id=first.id, deleted={"comments": ["k1", "nope"]})

    # then only that row is gone
    assert removed == {"comments": ["k1", "nope"]}
    assert sorted(Entity.objects.values_list("account_id", "platform_id")) == [
        (first.id, "k2"),
        (second.id, "k1"),
        (second.id, "k2"),
    ]
    assert entity_counts() == {
        "contents": 0,
        "comments": 3,
        "conversations": 0,
        "messages": 0,
        "notifications": 0,
    }


def test_an_accounts_rows_are_reloaded_into_the_store_in_chunks() -> None:
    # given two accounts with rows and a sync state (a fan-out gap reloads one account)
    first = Account.objects.create(nickname="a")
    second = Account.objects.create(nickname="b")
    entities_upsert(account_id=first.id, upserts={"comments": [comment(f"k{i}") for i in range(7)]})
    entities_upsert(
        account_id=second.id,
        upserts={"conversations": [conversation("conv1")], "messages": [message("m1"), message("m2")]},
    )
    SyncState.objects.create(account=first, last_seq=4)

    # when the first account's rows are loaded into a store with a small chunk size
    store = DataStore()
    changes: list[Change] = []

    def apply(change: Change) -> None:
        changes.append(change)
        store.apply_change(change)

    count = store_load_account(account_id=first.id, apply=apply, chunk_size=3)

    # then every row of that account is there, in chunks at its seq, and nothing of the other
    assert count == 7
    assert store.account_totals(first.id)["comments"] == 7
    assert store.account_totals(second.id)["messages"] == 0
    assert [(c.account_id, c.seq, c.revision) for c in changes] == [(first.id, 4, None)] * 3

"""Start-up load: the one-pass account build, the snapshot and when it may be used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import Account
from bench.data import bench_account_change
from datasync import persistence, snapshot
from datasync.im.replies import reply_entity_apply
from datasync.models import SyncState
from datasync.runtime import Runtime, Wiring
from datasync.store import Change, DataStore
from datasync.store.account import AccountIndex
from datasync.store.bulk import account_build
from datasync.store.items import CommentItem, ContentItem, ConversationItem, MessageItem
from tests.datasync.records import comment, content, conversation, message


def _index_state(index: AccountIndex) -> dict[str, Any]:
    """Everything an account index holds, items as records plus their read flag."""
    state: dict[str, Any] = {}
    for name, value in vars(index).items():
        if name in ("revision", "revisions_ahead", "content_orderings"):
            continue
        if name in ("contents", "comments", "conversations", "messages"):
            value = {
                key: (item.to_record(), getattr(item, "read", None)) for key, item in sorted(value.items())
            }
        elif isinstance(value, dict):
            value = dict(sorted(value.items()))
        state[name] = value
    return state


def _store_state(store: DataStore) -> dict[int, dict[str, Any]]:
    return {
        account_id: _index_state(store._accounts[account_id]) for account_id in sorted(store.account_ids())
    }


def test_the_one_pass_build_equals_applying_the_records_one_by_one() -> None:
    # given an account's records: works, comments with replies, conversations, messages in both directions
    change = bench_account_change(account_id=7, items=3000)
    change.upserts["conversations"].append(conversation("lonely", last_message_at=5))
    one_by_one = DataStore()
    one_by_one.apply_change(change)

    # when the same records are built in one pass
    records = change.upserts
    built = account_build(
        7,
        contents=[ContentItem(r) for r in records["contents"]],
        comments=[CommentItem(r) for r in records["comments"]],
        conversations=[ConversationItem(r) for r in records["conversations"]],
        messages=[MessageItem(r) for r in records["messages"]],
        notifications=[],
    )

    # then every index is the same
    assert _index_state(built) == _index_state(one_by_one._accounts[7])


def test_the_revision_watermark_moves_only_over_a_gapless_run() -> None:
    index = AccountIndex(1)
    index.revision = 4
    index.revision_applied(6)  # 5 not seen yet
    assert index.revision == 4
    index.revision_applied(5)
    assert index.revision == 6
    index.revision_applied(3)  # older: covered already
    assert index.revision == 6
    index.revision_applied(None)  # a change without a revision: the index can no longer vouch
    assert index.revision is None
    index.revision_applied(7)
    assert index.revision is None


IMAGE = {"type": "image", "url": "https://p3.douyinpic.com/i.webp", "thumb_url": "", "width": 640,
         "height": 480, "duration_ms": None, "item_id": ""}  # fmt: skip
VOICE = {"type": "voice", "url": "https://p3.douyinpic.com/v.mp3", "thumb_url": "", "width": None,
         "height": None, "duration_ms": 4200, "item_id": ""}  # fmt: skip


def _account_with_rows(nickname: str, ids: list[str], *, revision: int) -> Account:
    account = Account.objects.create(nickname=nickname)
    voice = message(f"{nickname}-m", conversation_id=f"{nickname}-c") | {"attachments": [VOICE], "text": ""}
    persistence.entities_upsert(
        account_id=account.id,
        upserts={
            "contents": [content(f"{nickname}-w") | {"type": "other", "platform_type": 99}],
            "comments": [comment(i) for i in ids[1:]] + [comment(ids[0], attachments=[IMAGE])],
            "conversations": [conversation(f"{nickname}-c")],
            "messages": [voice],
        },
    )
    SyncState.objects.create(account=account, last_seq=revision, revision=revision)
    return account


def _runtime(path: Path | None, settings: Any) -> Runtime:
    settings.IMHUB_SNAPSHOT_PATH = str(path) if path else ""
    loading = Runtime()
    loading.build(Wiring())
    loading.loading()
    loading.load_now()
    return loading


@pytest.mark.django_db
def test_a_restart_takes_current_accounts_from_the_snapshot_and_stale_ones_from_the_database(
    tmp_path: Path, settings: Any
) -> None:
    # given two accounts loaded by a process that then wrote its snapshot
    path = tmp_path / "datastore.snapshot"
    a = _account_with_rows("a", ["a1", "a2", "a3"], revision=3)
    b = _account_with_rows("b", ["b1"], revision=1)
    first = _runtime(path, settings)
    assert first.load_report["snapshot"] == "no snapshot"
    first.snapshot_save()
    assert path.exists()

    # when account b's data changes in the database while no process runs: a sent reply's entity
    # (no new seq, a new revision) and an edited comment
    reply_entity_apply(account_id=b.id, entity=comment("b-reply", text="回复"))
    persistence.entities_upsert(account_id=b.id, upserts={"comments": [comment("b1", text="改过")]})
    persistence.revision_bump(account_id=b.id)
    second = _runtime(path, settings)

    # then a comes from the snapshot, b from the database, and the store equals a load without snapshot
    assert second.load_report == {
        "snapshot": "snapshot read",
        "snapshot_accounts": 1,
        "snapshot_rows": 6,
        "database_accounts": 1,
        "database_rows": 5,
    }
    reference = _runtime(None, settings)
    assert reference.load_report["database_accounts"] == 2
    assert _store_state(second.store) == _store_state(reference.store)
    assert second.store.comment_get(account_id=b.id, comment_id="b1")["text"] == "改过"
    assert second.store.account_totals(a.id)["comments"] == 3
    # and attachments come back from the snapshot as they went in
    assert second.store.comment_get(account_id=a.id, comment_id="a1")["attachments"] == [IMAGE]
    assert second.store.message_get(account_id=a.id, message_id="a-m")["attachments"] == [VOICE]
    # and a work of a kind the adapter does not know keeps the platform's own type number
    work = second.store.content_get(account_id=a.id, content_id="a-w")
    assert (work["type"], work["platform_type"]) == ("other", 99)


@pytest.mark.django_db
def test_a_snapshot_is_not_used_when_rows_differ_at_the_same_revision_or_it_is_of_another_database(
    tmp_path: Path, settings: Any
) -> None:
    # given a snapshot of one account
    path = tmp_path / "datastore.snapshot"
    a = _account_with_rows("a", ["a1", "a2"], revision=2)
    _runtime(path, settings).snapshot_save()

    # when a row is deleted behind the hub's back (no revision bump), the row count differs
    persistence.entities_delete(account_id=a.id, deleted={"comments": ["a2"]})
    loaded = _runtime(path, settings)
    assert loaded.load_report["snapshot_accounts"] == 0
    assert loaded.store.account_totals(a.id)["comments"] == 1

    # when the snapshot names another database, it is not read at all
    _runtime(path, settings).snapshot_save()
    data, note = snapshot.snapshot_read(path, database="postgresql://elsewhere:5432/imhub")
    assert (data, note) == ({}, "snapshot of another database")

    # when the file is garbled, the load reads the database
    path.write_bytes(b"\x00garbage")
    garbled = _runtime(path, settings)
    assert garbled.load_report["snapshot"] == "snapshot of another format"
    assert garbled.store.account_totals(a.id)["comments"] == 1


@pytest.mark.django_db
def test_one_changed_byte_or_an_unreadable_path_falls_back_to_the_database(
    tmp_path: Path, settings: Any
) -> None:
    # given a snapshot of an account whose comment text is known
    path = tmp_path / "datastore.snapshot"
    a = _account_with_rows("a", ["a1", "a2"], revision=2)
    _runtime(path, settings).snapshot_save()
    raw = bytearray(path.read_bytes())
    text = b"a1"
    at = raw.index(text, len(snapshot.PREFIX) + 4)
    # when one byte inside a record changes (the id a1 becomes b1), the checksum catches it
    raw[at] = ord("b")
    path.write_bytes(bytes(raw))
    changed = _runtime(path, settings)
    assert changed.load_report["snapshot"] == "snapshot checksum mismatch"
    assert changed.load_report["database_accounts"] == 1
    assert changed.store.comment_get(account_id=a.id, comment_id="a1")["comment_id"] == "a1"
    assert changed.store.account_totals(a.id)["comments"] == 2
    # when the snapshot path is a directory, the load reads the database instead of failing
    path.unlink()
    path.mkdir()
    directory = _runtime(path, settings)
    assert directory.load_report["snapshot"] == "unreadable snapshot (IsADirectoryError)"
    assert directory.store.account_totals(a.id)["comments"] == 2


@pytest.mark.django_db
def test_an_account_holding_a_change_of_unknown_revision_is_not_written(
    tmp_path: Path, settings: Any
) -> None:
    # given a loaded process that then applies a change that carries no revision
    path = tmp_path / "datastore.snapshot"
    a = _account_with_rows("a", ["a1"], revision=1)
    b = _account_with_rows("b", ["b1"], revision=1)
    loaded = _runtime(path, settings)
    loaded.deliver(
        kind="sync",
        data=Change(account_id=a.id, seq=2, upserts={"comments": [comment("x")]}, applied_at=1),
    )

    # when it writes its snapshot, only the account it can vouch for is in it
    loaded.snapshot_save()
    data, _ = snapshot.snapshot_read(path, database=snapshot.database_name())
    assert sorted(data) == [b.id]


@pytest.mark.django_db
def test_a_buffered_change_is_replayed_only_above_the_loaded_revision(settings: Any) -> None:
    # given an account at revision 2 in the database
    a = _account_with_rows("a", ["a1", "a2"], revision=2)
    settings.IMHUB_SNAPSHOT_PATH = ""
    loading = Runtime()
    seen: list[int] = []
    loading.build(Wiring(fanout_handlers={"sync": (lambda applied: seen.append(applied.change.revision),)}))
    loading.loading()

    # when changes of revisions 2 (an older version of a2, read by the load already) and 3 arrive
    # while it loads
    old = comment("a2", text="旧")
    for revision, record in ((2, old), (3, comment("a3"))):
        loading.deliver(
            kind="sync",
            data=Change(
                account_id=a.id, seq=revision, upserts={"comments": [record]}, applied_at=1, revision=revision
            ),
        )
    loading.load_now()

    # then only revision 3 is replayed: the stored a2 is not overwritten by the older buffered one
    assert seen == [3]
    assert loading.store.comment_get(account_id=a.id, comment_id="a2")["text"] != "旧"
    assert loading.store.account_totals(a.id)["comments"] == 3
    assert loading.store.account_revisions()[a.id] == 3

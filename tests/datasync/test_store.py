"""DataStore: apply_change, orderings, cursor paging, unread counters and read marks."""

from __future__ import annotations

import pytest

from datasync.store import DataStore, StoreNotFound, StoreQueryError
from tests.datasync.store_data import T0, change, comment, conversation, known_change, message


def _walk(fetch, limit):
    items, cursor = [], None
    while True:
        page, cursor = fetch(cursor=cursor, limit=limit)
        items.extend(page)
        if cursor is None:
            return items


def test_apply_change_returns_only_new_records():
    # given
    store = DataStore()
    first = known_change(1)
    # when
    new_first = store.apply_change(first)
    new_again = store.apply_change(first)
    # then
    assert len(new_first) == 12
    assert new_again == []
    assert store.totals() == {
        "accounts": 1,
        "contents": 2,
        "comments": 4,
        "conversations": 2,
        "messages": 4,
        "notifications": 0,
    }
    assert store.account_totals(1)["comments"] == 4
    assert store.account_totals(2)["comments"] == 0


def test_apply_change_with_bad_record_changes_nothing():
    # given
    store = DataStore()
    bad = change(1, comments=[comment("c1", content_id="w1", created_at=T0), {"comment_id": "c2"}])
    # when
    with pytest.raises(KeyError):
        store.apply_change(bad)
    # then
    assert store.totals()["comments"] == 0


def test_unified_is_newest_first_and_unread_excludes_own_items():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    everything, _ = store.unified_page(account_id=1, types="all", unread=False, cursor=None, limit=50)
    unread, _ = store.unified_page(account_id=1, types="all", unread=True, cursor=None, limit=50)
    # then
    assert [i["id"] for i in everything] == ["m4", "c3", "r1", "c2", "m3", "m2", "m1", "c1"]
    assert [i["id"] for i in unread] == ["m4", "r1", "c2", "m3", "m1", "c1"]
    assert store.unread_stats(1) == {"comments": 3, "messages": 3, "total": 6}


def test_conversations_follow_newest_message_and_count_unread():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    store.apply_change(change(1, messages=[message("m5", conversation_id="v1", created_at=T0 + 900)]))
    page, cursor = store.conversations_page(account_id=1, cursor=None, limit=10)
    # then
    assert [(c["conversation_id"], c["sort_time"], c["unread"]) for c in page] == [
        ("v1", T0 + 900, 2),
        ("v2", T0 + 600, 2),
    ]
    assert cursor is None


def test_discussions_top_level_and_replies():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    top, _ = store.discussions_page(account_id=1, content_id="w1", parent_id=None, cursor=None, limit=10)
    replies, _ = store.discussions_page(account_id=1, content_id="w1", parent_id="c1", cursor=None, limit=10)
    # then
    assert [c["comment_id"] for c in top] == ["c3", "c2", "c1"]
    assert [c["comment_id"] for c in replies] == ["r1"]
    with pytest.raises(StoreNotFound):
        store.discussions_page(account_id=1, content_id="nope", parent_id=None, cursor=None, limit=10)


def test_contents_ordering_by_stat_both_directions():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    by_likes, _ = store.contents_page(account_id=1, ordering="-likes", cursor=None, limit=10)
    by_likes_asc, _ = store.contents_page(account_id=1, ordering="likes", cursor=None, limit=10)
    newest, _ = store.contents_page(account_id=1, ordering="-published_at", cursor=None, limit=10)
    # then
    assert [c["content_id"] for c in by_likes] == ["w1", "w2"]
    assert [c["content_id"] for c in by_likes_asc] == ["w2", "w1"]
    assert [c["content_id"] for c in newest] == ["w2", "w1"]
    assert by_likes[0]["unread_comments"] == 3
    with pytest.raises(StoreQueryError) as error:
        store.contents_page(account_id=1, ordering="-bogus", cursor=None, limit=10)
    assert error.value.param == "ordering"


def test_cursor_walk_under_inserts_yields_each_item_once():
    # given
    store = DataStore()
    store.apply_change(
        change(1, messages=[message(f"m{i:03}", conversation_id="v", created_at=T0 + i) for i in range(100)])
    )
    seen: list[str] = []
    cursor, inserted = None, 0
    # when: a newer and an older message arrive between every page
    while True:
        page, cursor = store.unified_page(account_id=1, types="all", unread=False, cursor=cursor, limit=7)
        seen.extend(item["id"] for item in page)
        inserted += 1
        store.apply_change(
            change(
                1,
                messages=[
                    message(f"new{inserted}", conversation_id="v", created_at=T0 + 10_000 + inserted),
                    message(f"old{inserted}", conversation_id="v", created_at=T0 - 10_000 - inserted),
                ],
            )
        )
        if cursor is None:
            break
    # then: every original item exactly once, in order; the older arrivals also appear once
    originals = [i for i in seen if i.startswith("m")]
    assert originals == [f"m{i:03}" for i in reversed(range(100))]
    assert len(seen) == len(set(seen))


def test_bad_cursor_is_a_query_error():
    # given
    store = DataStore()
    # when / then
    with pytest.raises(StoreQueryError) as error:
        store.unified_page(account_id=1, types="all", unread=False, cursor="!!notacursor", limit=5)
    assert error.value.param == "cursor"


def test_read_marks_items_conversation_and_content():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    items = store.read_mark_apply(
        {"account_id": 1, "target": "items", "kind": "messages", "ids": ["m1", "m2"]}
    )
    conv = store.read_mark_apply(
        {"account_id": 1, "target": "conversation", "conversation_id": "v2", "up_to": T0 + 250}
    )
    content = store.read_mark_apply(
        {"account_id": 1, "target": "content", "content_id": "w1", "up_to": T0 + 10_000}
    )
    # then: m2 is outbound (never unread), the conversation mark stops at m3
    assert (items, conv, content) == (1, 1, 3)
    assert store.unread_stats(1) == {"comments": 0, "messages": 1, "total": 1}
    assert store.conversation_get(account_id=1, conversation_id="v2")["unread"] == 1


def test_read_mark_before_items_arrive_still_applies():
    # given
    store = DataStore()
    store.read_mark_apply({"account_id": 1, "target": "items", "kind": "comments", "ids": ["c1"]})
    store.read_mark_apply(
        {"account_id": 1, "target": "conversation", "conversation_id": "v1", "up_to": T0 + 150}
    )
    # when
    store.apply_change(known_change(1))
    # then
    assert store.comment_get(account_id=1, comment_id="c1")["unread"] is False
    assert store.message_get(account_id=1, message_id="m1")["unread"] is False
    assert store.unread_stats(1) == {"comments": 2, "messages": 2, "total": 4}


def test_update_keeps_read_state_and_delete_adjusts_counts():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    store.read_mark_apply({"account_id": 1, "target": "items", "kind": "comments", "ids": ["c1"]})
    # when
    edited = comment("c1", content_id="w1", created_at=T0 + 100)
    edited["likes"] = 9
    store.apply_change(change(1, seq=2, comments=[edited], deleted={"comments": ["c2"]}))
    # then
    assert store.comment_get(account_id=1, comment_id="c1") | {} == {**edited, "unread": False}
    assert store.unread_stats(1)["comments"] == 1
    assert store.account_totals(1)["comments"] == 3


def test_a_reply_to_a_reply_is_served_with_the_id_it_answers():
    # given a thread with a reply that answers another reply
    store = DataStore()
    store.apply_change(
        change(
            1,
            comments=[
                comment("c1", content_id="w1", created_at=T0),
                comment("r1", content_id="w1", created_at=T0 + 1, parent_id="c1"),
                {
                    **comment("r2", content_id="w1", created_at=T0 + 2, parent_id="c1"),
                    "reply_to_reply_id": "r1",
                },
            ],
        )
    )
    # when the thread is read
    replies, _ = store.discussions_page(account_id=1, content_id=None, parent_id="c1", cursor=None, limit=10)
    # then the third level is kept
    assert {r["comment_id"]: r.get("reply_to_reply_id") for r in replies} == {"r1": None, "r2": "r1"}


def test_a_thread_whose_last_item_is_media_without_text_names_the_media_kind() -> None:
    # given a conversation whose newest message is a voice clip (no text), and one that ends in text
    store = DataStore()
    voice = {
        **message("m2", conversation_id="v1", created_at=T0 + 2),
        "text": "",
        "msg_type": "voice",
        "attachments": [{"type": "voice", "url": "https://example.org/v.mp3", "duration_ms": 7000}],
    }
    store.apply_change(
        change(
            1,
            conversations=[
                conversation("v1", last_message_at=T0 + 2),
                conversation("t1", last_message_at=T0 + 1),
            ],
            messages=[
                message("m1", conversation_id="v1", created_at=T0 + 1),
                voice,
                message("m3", conversation_id="t1", created_at=T0 + 1),
            ],
        )
    )
    # when the threads are summarised
    summaries = store.thread_summaries(1)
    # then the media thread says which kind its last item is (for a label), the text thread says none
    media, text = summaries[("dm", "v1")], summaries[("dm", "t1")]
    assert media is not None and text is not None
    assert (media["last_text"], media["last_media"]) == ("", "voice")
    assert (text["last_text"], text["last_media"]) == ("msg m3", "")

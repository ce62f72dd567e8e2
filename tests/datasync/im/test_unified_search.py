"""Unified messages for the inbox page: each row's context (work / conversation) and text search."""
# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)

from __future__ import annotations

import pytest

from datasync import store as store_module
from datasync.store import DataStore
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401
from tests.datasync.store_data import T0, change, comment, known_change, message


def _page(store: DataStore, **kwargs: object) -> tuple[list[str], str | None]:
    params = {"account_id": 1, "types": "all", "unread": False, "cursor": None, "limit": 50}
    params.update(kwargs)
    rows, nxt = store.unified_page(**params)  # type: ignore[arg-type]
    return [r["id"] for r in rows], nxt


def test_rows_carry_their_work_or_conversation():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when
    rows, _ = store.unified_page(account_id=1, types="all", unread=False, cursor=None, limit=50)
    by_id = {r["id"]: r for r in rows}
    # then
    assert by_id["c1"]["context"] == {"content_id": "w1", "title": "title w1", "cover_url": ""}
    assert by_id["m4"]["context"] == {
        "conversation_id": "v2",
        "peer": {"id": "p-v2", "sec_uid": "", "nickname": "李四", "avatar_url": ""},
    }


def test_context_of_an_unknown_work_or_conversation_is_empty():
    # given a comment and a message whose work and conversation the store does not hold
    store = DataStore()
    store.apply_change(
        change(
            1,
            comments=[comment("c1", content_id="gone", created_at=T0)],
            messages=[message("m1", conversation_id="gone", created_at=T0 + 1)],
        )
    )
    # when
    rows, _ = store.unified_page(account_id=1, types="all", unread=False, cursor=None, limit=50)
    # then
    assert [r["context"] for r in rows] == [
        {"conversation_id": "gone", "peer": None},
        {"content_id": "gone", "title": "", "cover_url": ""},
    ]


def test_search_matches_text_and_author_case_insensitively():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when / then: comment text, message text, comment author, conversation peer, nothing
    assert _page(store, text="TEXT C")[0] == ["c3", "c2", "c1"]
    assert _page(store, text="msg m")[0] == ["m4", "m3", "m2", "m1"]
    assert _page(store, text="张三")[0] == ["c3", "r1", "c2", "c1"]
    assert _page(store, text="李四", types="messages")[0] == ["m4", "m3", "m2", "m1"]
    assert _page(store, text="李四", types="messages", unread=True)[0] == ["m4", "m3", "m1"]
    assert _page(store, text="没有") == ([], None)


def test_search_pages_by_cursor_without_repeats():
    # given
    store = DataStore()
    store.apply_change(known_change(1))
    # when the matches are walked two at a time
    seen, cursor = [], None
    while True:
        ids, cursor = _page(store, text="text", limit=2, cursor=cursor)
        seen += ids
        if cursor is None:
            break
    # then
    assert seen == ["c3", "r1", "c2", "c1"]


def test_search_scan_is_bounded_and_resumes(monkeypatch: pytest.MonkeyPatch):
    # given a scan budget of 3 keys
    monkeypatch.setattr(store_module, "SEARCH_SCAN", 3)
    store = DataStore()
    store.apply_change(known_change(1))
    # when searching for the oldest comment only
    first, cursor = _page(store, text="text c1")
    second, cursor2 = _page(store, text="text c1", cursor=cursor)
    third, cursor3 = _page(store, text="text c1", cursor=cursor2)
    # then the first pages are empty but point further, and the match comes once
    assert (first, second, third, cursor3) == ([], [], ["c1"], None)
    assert cursor is not None and cursor2 is not None


@pytest.mark.django_db
def test_api_search_parameter(team: Team) -> None:
    # when
    found = team.client(team.agent).get(
        "/api/im/unified-messages/", {"account_id": team.account.id, "q": "msg m3"}
    )
    too_long = team.client(team.agent).get(
        "/api/im/unified-messages/", {"account_id": team.account.id, "q": "x" * 101}
    )
    # then
    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == ["m3"]
    assert too_long.status_code == 400
    assert "q" in str(too_long.json())

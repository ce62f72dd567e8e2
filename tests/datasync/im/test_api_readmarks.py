"""POST /api/im/read-marks/: items, a conversation, a work's comments; team-shared, audited, persisted."""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from datasync.im.models import ReadMark
from datasync.im.readmarks import read_marks_load
from datasync.store import DataStore
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401
from tests.datasync.store_data import T0, change, comment, known_change

pytestmark = pytest.mark.django_db


def _mark(team: Team, user: Any = None, **body: Any) -> Any:
    return team.client(user or team.agent).post(
        "/api/im/read-marks/", {"account_id": team.account.id, **body}, format="json"
    )


def _stats(team: Team, user: Any = None) -> dict[str, int]:
    return (
        team.client(user or team.agent)
        .get("/api/im/unified-messages/stats/", {"account_id": team.account.id})
        .json()
    )


def test_marking_items_is_counted_at_once_and_audited(team: Team) -> None:
    # when
    response = _mark(team, target="items", kind="comments", ids=["c1", "c3"])
    # then: c3 is the author's own comment and was never unread
    body = response.json()
    assert response.status_code == 201
    assert (body["target"], body["kind"], body["ids"], body["marked"]) == (
        "items",
        "comments",
        ["c1", "c3"],
        1,
    )
    assert body["unread"] == {"comments": 2, "messages": 3, "total": 5}
    assert body["marked_by"] == team.agent.id
    row = ReadMark.objects.get(pk=body["id"])
    assert (row.marked_by_id, row.account_id, row.ids) == (team.agent.id, team.account.id, ["c1", "c3"])
    assert row.marked_at is not None


def test_a_mark_is_shared_by_the_whole_team(team: Team) -> None:
    # given a second agent of the same team
    teammate = User.objects.create_user("teammate")
    teammate.groups.add(*team.agent.groups.all())
    # when the first agent marks a conversation read
    _mark(team, target="conversation", conversation_id="v2")
    # then the teammate sees it read
    assert _stats(team, teammate) == {"comments": 3, "messages": 1, "total": 4}
    unread = (
        team.client(teammate)
        .get(
            "/api/im/unified-messages/",
            {"account_id": team.account.id, "unread": "true", "types": "messages"},
        )
        .json()
    )
    assert [i["id"] for i in unread["results"]] == ["m1"]


def test_content_mark_covers_comments_up_to_the_newest_and_not_later_ones(team: Team) -> None:
    # given
    _mark(team, target="content", content_id="w1")
    # when a newer comment arrives after the mark
    team.store.apply_change(
        change(team.account.id, comments=[comment("c7", content_id="w1", created_at=T0 + 9000)])
    )
    # then only the new one is unread
    assert _stats(team)["comments"] == 1
    assert ReadMark.objects.get().up_to == T0 + 500


def test_persisted_marks_reload_into_a_fresh_store(team: Team) -> None:
    # given marks of every kind
    _mark(team, target="items", kind="messages", ids=["m1"])
    _mark(team, target="conversation", conversation_id="v2")
    _mark(team, target="content", content_id="w1")
    # when a new process loads the items, then the marks
    fresh = DataStore()
    fresh.apply_change(known_change(team.account.id))
    read_marks_load(fresh)
    # then it counts exactly what the serving store counts
    assert (
        fresh.unread_stats(team.account.id)
        == team.store.unread_stats(team.account.id)
        == {
            "comments": 0,
            "messages": 0,
            "total": 0,
        }
    )


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "target"),
        ({"target": "everything"}, 400, "target"),
        ({"target": "items", "ids": ["c1"]}, 400, "kind"),
        ({"target": "items", "kind": "comments"}, 400, "ids"),
        ({"target": "items", "kind": "comments", "ids": []}, 400, "ids"),
        ({"target": "conversation"}, 400, "conversation_id"),
        ({"target": "content"}, 400, "content_id"),
        ({"target": "items", "kind": "comments", "ids": ["c1", "nope"]}, 404, None),
        ({"target": "conversation", "conversation_id": "nope"}, 404, None),
        ({"target": "content", "content_id": "nope"}, 404, None),
        ({"account_id": 999_999, "target": "content", "content_id": "w1"}, 404, None),
    ],
)
def test_bad_marks_change_nothing(team: Team, body: dict, status: int, param: Any) -> None:
    # when
    response = _mark(team, **body)
    # then
    assert response.status_code == status
    assert response.json().get("param") == param
    assert ReadMark.objects.count() == 0
    assert _stats(team) == {"comments": 3, "messages": 3, "total": 6}


def test_marking_another_teams_account_is_404(team: Team) -> None:
    # when
    response = _mark(team, account_id=team.other_account.id, target="content", content_id="w1")
    # then
    assert response.status_code == 404
    assert team.store.unread_stats(team.other_account.id)["comments"] == 3

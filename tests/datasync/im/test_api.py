"""IM API routes against a known dataset: content, order, pagination, team scoping, bad parameters."""
# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)

from __future__ import annotations

from typing import Any

import pytest

from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401
from tests.datasync.store_data import T0, change, message

pytestmark = pytest.mark.django_db


def _get(team: Team, url: str, user: Any = None, **params: Any) -> Any:
    return team.client(user or team.agent).get(url, params)


def test_accounts_lists_only_team_accounts_with_unread_and_activity(team: Team) -> None:
    # when
    response = _get(team, "/api/im/accounts/")
    # then
    assert response.status_code == 200
    assert response.json()["next"] is None
    [account] = response.json()["results"]
    assert account["id"] == team.account.id
    assert account["nickname"] == "红"
    assert account["login_status"] == "logged_in"
    assert account["runner_status"] == "running"
    assert account["unread"] == {"comments": 3, "messages": 3, "total": 6}
    assert account["last_activity"] == T0 + 600
    assert account["counts"]["comments"] == 4
    assert "storage_state" not in account and "storage_state_encrypted" not in account


def test_superuser_sees_every_account(team: Team) -> None:
    # when
    response = _get(team, "/api/im/accounts/", team.admin)
    # then
    assert [a["id"] for a in response.json()["results"]] == [team.account.id, team.other_account.id]


def test_anonymous_is_refused(team: Team) -> None:
    # when
    response = team.client(None).get("/api/im/accounts/")
    # then
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    "url",
    [
        "/api/im/conversations/",
        "/api/im/conversations/v1/",
        "/api/im/contents/",
        "/api/im/contents/w1/",
        "/api/im/unified-messages/",
        "/api/im/unified-messages/stats/",
    ],
)
def test_other_teams_account_is_404_like_a_missing_one(team: Team, url: str) -> None:
    # when
    hidden = _get(team, url, account_id=team.other_account.id)
    missing = _get(team, url, account_id=999_999)
    # then
    assert hidden.status_code == 404
    assert hidden.json() == missing.json() == {"error": "not_found", "detail": "account not found"}


def test_account_detail_of_other_team_is_404(team: Team) -> None:
    # when
    response = _get(team, f"/api/im/accounts/{team.other_account.id}/")
    # then
    assert response.status_code == 404


def test_conversations_newest_first_with_unread(team: Team) -> None:
    # when
    response = _get(team, "/api/im/conversations/", account_id=team.account.id)
    # then
    body = response.json()
    assert [(c["conversation_id"], c["unread"]) for c in body["results"]] == [("v2", 2), ("v1", 1)]
    assert body["results"][0]["peer"]["nickname"] == "李四"


def test_conversation_detail_and_unknown_conversation(team: Team) -> None:
    # when
    found = _get(team, "/api/im/conversations/v1/", account_id=team.account.id)
    unknown = _get(team, "/api/im/conversations/nope/", account_id=team.account.id)
    # then
    assert found.json()["conversation_id"] == "v1"
    assert found.json()["sort_time"] == T0 + 200
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "not_found", "detail": "conversation not found"}


def test_messages_of_a_conversation_newest_first(team: Team) -> None:
    # when
    response = _get(team, "/api/im/messages/", account_id=team.account.id, conversation_id="v1")
    # then
    assert [(m["message_id"], m["unread"]) for m in response.json()["results"]] == [
        ("m2", False),
        ("m1", True),
    ]


def test_contents_ordering_by_stat(team: Team) -> None:
    # when
    default = _get(team, "/api/im/contents/", account_id=team.account.id)
    by_likes = _get(team, "/api/im/contents/", account_id=team.account.id, ordering="-likes")
    # then
    assert [c["content_id"] for c in default.json()["results"]] == ["w2", "w1"]
    assert [c["content_id"] for c in by_likes.json()["results"]] == ["w1", "w2"]
    assert by_likes.json()["results"][0]["stats"]["likes"] == 5
    assert by_likes.json()["results"][0]["unread_comments"] == 3


def test_discussions_of_a_work_and_replies_of_a_comment(team: Team) -> None:
    # when
    top = _get(team, "/api/im/discussions/", account_id=team.account.id, content_id="w1")
    replies = _get(team, "/api/im/discussions/", account_id=team.account.id, parent_id="c1")
    # then
    assert [c["comment_id"] for c in top.json()["results"]] == ["c3", "c2", "c1"]
    assert [c["comment_id"] for c in replies.json()["results"]] == ["r1"]
    assert top.json()["results"][0]["unread"] is False  # the author's own comment


def test_unified_messages_filters_and_stats(team: Team) -> None:
    # when
    everything = _get(team, "/api/im/unified-messages/", account_id=team.account.id)
    unread_comments = _get(
        team, "/api/im/unified-messages/", account_id=team.account.id, types="comments", unread="true"
    )
    stats = _get(team, "/api/im/unified-messages/stats/", account_id=team.account.id)
    # then
    assert [(i["kind"], i["id"]) for i in everything.json()["results"]] == [
        ("message", "m4"),
        ("comment", "c3"),
        ("comment", "r1"),
        ("comment", "c2"),
        ("message", "m3"),
        ("message", "m2"),
        ("message", "m1"),
        ("comment", "c1"),
    ]
    assert everything.json()["results"][0]["time"] == T0 + 600
    assert [i["id"] for i in unread_comments.json()["results"]] == ["r1", "c2", "c1"]
    assert stats.json() == {"comments": 3, "messages": 3, "total": 6}


@pytest.mark.parametrize(
    ("url", "params", "param"),
    [
        ("/api/im/conversations/", {}, "account_id"),
        ("/api/im/conversations/", {"account_id": "abc"}, "account_id"),
        ("/api/im/conversations/", {"account_id": 1, "limit": 0}, "limit"),
        ("/api/im/conversations/", {"account_id": 1, "limit": 101}, "limit"),
        ("/api/im/conversations/", {"account_id": 1, "cursor": "%%%"}, "cursor"),
        ("/api/im/messages/", {"account_id": 1}, "conversation_id"),
        ("/api/im/contents/", {"account_id": 1, "ordering": "-bogus"}, "ordering"),
        ("/api/im/discussions/", {"account_id": 1}, "content_id"),
        ("/api/im/unified-messages/", {"account_id": 1, "types": "emails"}, "types"),
        ("/api/im/unified-messages/", {"account_id": 1, "unread": "maybe"}, "unread"),
        ("/api/im/unified-messages/", {"account_id": 1, "cursor": "WzEsMl0"}, "cursor"),
        ("/api/im/accounts/", {"cursor": "x"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(team: Team, url: str, params: dict, param: str) -> None:
    # given the visible account's id where the test uses 1
    if params.get("account_id") == 1:
        params = {**params, "account_id": team.account.id}
    # when
    response = _get(team, url, **params)
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert response.json()["param"] == param


def test_full_walk_under_concurrent_inserts_yields_each_item_once(team: Team) -> None:
    # given 95 more messages: 103 items in the unified timeline
    team.store.apply_change(
        change(
            team.account.id,
            messages=[message(f"x{i:03}", conversation_id="v1", created_at=T0 + 1000 + i) for i in range(95)],
        )
    )
    before = _get(team, "/api/im/unified-messages/", account_id=team.account.id, limit=100).json()["results"]
    before_ids = [i["id"] for i in before] + [
        i["id"]
        for i in _get(
            team,
            "/api/im/unified-messages/",
            account_id=team.account.id,
            limit=100,
            cursor=_cursor_after(team, 100),
        ).json()["results"]
    ]
    seen: list[str] = []
    url, params, page = "/api/im/unified-messages/", {"account_id": team.account.id, "limit": 9}, 0
    # when a newer and an older message arrive between every page request
    while True:
        body = _get(team, url, **params).json()
        seen.extend(i["id"] for i in body["results"])
        page += 1
        team.store.apply_change(
            change(
                team.account.id,
                messages=[
                    message(f"new{page}", conversation_id="v2", created_at=T0 + 50_000 + page),
                    message(f"old{page}", conversation_id="v2", created_at=T0 - 50_000 - page),
                ],
            )
        )
        if body["next_cursor"] is None:
            break
        params = {**params, "cursor": body["next_cursor"]}
    # then every item present at the start appears exactly once, in the original order
    assert len(before_ids) == 103
    assert [i for i in seen if i in set(before_ids)] == before_ids
    assert len(seen) == len(set(seen))
    assert not any(i.startswith("new") for i in seen)


def _cursor_after(team: Team, n: int) -> str:
    return _get(team, "/api/im/unified-messages/", account_id=team.account.id, limit=n).json()["next_cursor"]


def test_next_link_points_at_the_following_page(team: Team) -> None:
    # when
    first = _get(team, "/api/im/unified-messages/", account_id=team.account.id, limit=3).json()
    second = team.client(team.agent).get(first["next"]).json()
    # then
    assert [i["id"] for i in first["results"]] == ["m4", "c3", "r1"]
    assert [i["id"] for i in second["results"]] == ["c2", "m3", "m2"]


def test_schema_and_docs_are_served(team: Team) -> None:
    # when
    schema = team.client(team.agent).get("/api/schema/", {"format": "json"})
    docs = team.client(team.agent).get("/api/docs/")
    # then
    assert schema.status_code == 200
    assert "/api/im/unified-messages/" in schema.json()["paths"]
    assert "/api/im/replies/{id}/" in schema.json()["paths"]
    assert docs.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/im/contents/?account_id=999999",
        "/api/im/unified-messages/?account_id=999999",
        "/api/im/conversations/?account_id=999999",
        "/api/im/accounts/999999/",
    ],
)
def test_an_account_that_does_not_exist_is_404_for_a_superuser_too(team: Team, path: str) -> None:
    # when a superuser (who sees every account) names an account id that does not exist
    response = team.client(team.admin).get(path)
    # then it is 404, as for everyone else (not 200 with an empty list)
    assert response.status_code == 404, response.content
    assert response.json()["error"] == "not_found"
    # and an existing account still answers
    assert team.client(team.admin).get(path.replace("999999", str(team.account.id))).status_code == 200


def test_an_unknown_api_route_answers_json_not_a_page(team: Team) -> None:
    response = team.client(team.agent).get("/api/im/no-such-route/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json()["error"] == "not_found"


def test_the_schema_documents_page_envelopes_and_errors(team: Team) -> None:
    schema = team.client(team.agent).get("/api/schema/", {"format": "json"}).json()
    listing = schema["paths"]["/api/im/unified-messages/"]["get"]["responses"]
    ref = listing["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"results", "next", "next_cursor"}
    assert {"400", "401", "403", "404", "429", "503"} <= set(listing)
    reply = schema["paths"]["/api/im/replies/"]["post"]["responses"]
    assert {"202", "400", "404", "409"} <= set(reply)

"""The desk API over a loaded store: the queue, derived status, bulk actions, assignment, read-only
roles, reply collisions, notes, canned replies, and the read lane answering the queue like DRF."""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from accounts.models import TeamMembershipRole, TeamRole
from datasync.desk.activity import desk_index, desk_load, threads_sync_apply
from datasync.desk.models import ThreadEvent, ThreadState
from datasync.im.models import ReplyRequest
from datasync.store import Applied
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401
from tests.datasync.im.test_read_lane import Spy, asgi_get, both, django_app
from tests.datasync.store_data import T0, change, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team: Team) -> Iterator[Team]:
    desk_load(team.store)
    yield team
    desk_index.clear()


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _tid(team: Team, kind: str, key: str) -> str:
    return f"{team.account.id}:{kind}:{key}"


def _inbound(team: Team, mid: str, *, conversation_id: str = "v1", at: int | None = None) -> None:
    """A customer's DM reaches the store and the desk as a synced change does."""
    applied_change = change(
        team.account.id,
        messages=[message(mid, conversation_id=conversation_id, created_at=at or int(time.time() * 1000))],
    )
    new = team.store.apply_change(applied_change)
    threads_sync_apply(Applied(applied_change, new))


def test_queue_is_threads_longest_waiting_first_and_team_scoped(desk: Team) -> None:
    # when the agent reads the open queue
    response = desk.client(desk.agent).get("/api/desk/threads/")
    # then: one row per thread (not per message), oldest unanswered first, only their team's account
    assert _ids(response) == [
        _tid(desk, "comment", "c1"),
        _tid(desk, "dm", "v2"),
        _tid(desk, "comment", "c2"),
    ]
    first = response.json()["results"][0]
    assert (first["waiting_since"], first["unread"], first["items"]) == (T0 + 100, 2, 2)
    assert first["customer"]["nickname"] == "张三"
    # the conversation the account answered last is pending; the author's own comment is no thread
    pending = desk.client(desk.agent).get("/api/desk/threads/", {"status": "pending"})
    assert _ids(pending) == [_tid(desk, "dm", "v1")]
    assert _tid(desk, "comment", "c3") not in _ids(
        desk.client(desk.agent).get("/api/desk/threads/", {"status": "all"})
    )
    # the other team's agent sees none of it
    assert (
        _ids(desk.client(desk.other_agent).get("/api/desk/threads/", {"account_id": desk.account.id})) == []
    )


def test_resolve_then_a_customer_message_reopens(desk: Team) -> None:
    thread = _tid(desk, "dm", "v2")
    # when the agent resolves the thread
    response = desk.client(desk.agent).post(
        "/api/desk/threads/bulk/", {"action": "resolve", "ids": [thread]}, format="json"
    )
    # then it is resolved, persisted and audited
    assert response.status_code == 200, response.content
    assert response.json()["threads"][0]["status"] == "resolved"
    assert ThreadState.objects.get(account=desk.account, kind="dm", key="v2").status == "resolved"
    assert ThreadEvent.objects.get(thread=thread).actor == desk.agent
    assert thread not in _ids(desk.client(desk.agent).get("/api/desk/threads/"))
    # when the customer writes again
    _inbound(desk, "m9", conversation_id="v2")
    # then the thread is open again, at the end of the queue (it waits since the new message)
    assert _ids(desk.client(desk.agent).get("/api/desk/threads/"))[-1] == thread


def test_bulk_resolve_all_matching_a_filter(desk: Team) -> None:
    # when the agent resolves every open comment thread at once (the first-sync backlog)
    response = desk.client(desk.agent).post(
        "/api/desk/threads/bulk/",
        {"action": "resolve", "filter": {"status": "open", "kind": "comment"}},
        format="json",
    )
    # then exactly those two threads are resolved; the DM stays open
    assert response.json()["count"] == 2
    assert _ids(desk.client(desk.agent).get("/api/desk/threads/")) == [_tid(desk, "dm", "v2")]


def test_assignment_views_and_refusals(desk: Team) -> None:
    teammate = User.objects.create_user("mate", password="pw")
    teammate.groups.add(desk.agent.groups.get())
    thread = _tid(desk, "dm", "v2")
    bulk = "/api/desk/threads/bulk/"
    # an agent of another team cannot be given the thread
    refused = desk.client(desk.agent).post(
        bulk, {"action": "assign", "ids": [thread], "assignee_id": desk.other_agent.id}, format="json"
    )
    assert (refused.status_code, refused.json()["param"]) == (400, "assignee_id")
    # when the thread is assigned to the teammate
    ok = desk.client(desk.agent).post(
        bulk, {"action": "assign", "ids": [thread], "assignee_id": teammate.id}, format="json"
    )
    assert ok.status_code == 200
    # then it is in the teammate's "mine", not in "unassigned", and the counts say so
    assert _ids(desk.client(teammate).get("/api/desk/threads/", {"assignee": "me"})) == [thread]
    assert thread not in _ids(desk.client(desk.agent).get("/api/desk/threads/", {"assignee": "none"}))
    counts = desk.client(teammate).get("/api/desk/threads/counts/").json()
    assert (counts["mine"]["open"], counts["unassigned"]["open"], counts["all"]["open"]) == (1, 2, 3)


def test_read_only_member_reads_but_never_acts(desk: Team) -> None:
    TeamMembershipRole.objects.create(user=desk.agent, team=desk.agent.groups.get(), role=TeamRole.READ_ONLY)
    thread = _tid(desk, "dm", "v2")
    client = desk.client(desk.agent)
    assert _ids(client.get("/api/desk/threads/"))[1] == thread
    resolve = client.post("/api/desk/threads/bulk/", {"action": "resolve", "ids": [thread]}, format="json")
    reply = client.post(
        f"/api/desk/threads/{thread}/reply/",
        {"text": "hi", "idempotency_key": "k1", "opened_at": 0},
        format="json",
    )
    im_reply = client.post(
        "/api/im/replies/",
        {
            "account_id": desk.account.id,
            "target": {"kind": "message", "conversation_id": "v2"},
            "text": "hi",
            "idempotency_key": "k2",
        },
        format="json",
    )
    assert [r.status_code for r in (resolve, reply, im_reply)] == [403, 403, 403]
    assert resolve.json()["error"] == "read_only"
    assert not ReplyRequest.objects.exists() and not ThreadState.objects.exists()


def test_reply_asks_before_answering_a_thread_a_teammate_answered(desk: Team) -> None:
    teammate = User.objects.create_user("mate", password="pw")
    teammate.groups.add(desk.agent.groups.get())
    thread = _tid(desk, "dm", "v2")
    opened = desk.client(desk.agent).get(f"/api/desk/threads/{thread}/").json()["as_of"]
    # given the teammate answered after the agent opened the thread
    first = desk.client(teammate).post(
        f"/api/desk/threads/{thread}/reply/",
        {"text": "在的", "idempotency_key": "a", "opened_at": opened},
        format="json",
    )
    assert first.status_code == 202, first.content
    # when the agent sends without confirming
    body = {"text": "您好", "idempotency_key": "b", "opened_at": opened}
    clash = desk.client(desk.agent).post(f"/api/desk/threads/{thread}/reply/", body, format="json")
    # then the hub asks first, naming who answered; with confirm it sends
    assert clash.status_code == 409
    assert (clash.json()["error"], clash.json()["answered_by"]) == ("answered_since", ["mate"])
    sent = desk.client(desk.agent).post(
        f"/api/desk/threads/{thread}/reply/", {**body, "confirm": True}, format="json"
    )
    assert sent.status_code == 202
    assert ReplyRequest.objects.get(idempotency_key="b").conversation_id == "v2"
    detail = desk.client(desk.agent).get(f"/api/desk/threads/{thread}/").json()
    assert [(r["text"], r["sent_by"]) for r in detail["replies"]] == [("在的", "mate"), ("您好", "agent")]
    assert detail["last_agent"] == "agent"


def test_notes_are_private_and_canned_replies_are_team_scoped(desk: Team) -> None:
    thread = _tid(desk, "comment", "c1")
    note = desk.client(desk.agent).post(f"/api/desk/threads/{thread}/notes/", {"text": "VIP"}, format="json")
    assert note.status_code == 201
    assert [
        n["text"] for n in desk.client(desk.agent).get(f"/api/desk/threads/{thread}/").json()["notes"]
    ] == ["VIP"]
    assert desk.client(desk.other_agent).get(f"/api/desk/threads/{thread}/").status_code == 404
    team_id = desk.account.team_id
    made = desk.client(desk.agent).post(
        "/api/desk/canned-replies/",
        {"team_id": team_id, "shortcut": "hi", "text": "您好 {name}"},
        format="json",
    )
    assert made.status_code == 201
    dup = desk.client(desk.agent).post(
        "/api/desk/canned-replies/", {"team_id": team_id, "shortcut": "hi", "text": "x"}, format="json"
    )
    assert (dup.status_code, dup.json()["param"]) == (400, "shortcut")
    other = desk.client(desk.other_agent).post(
        "/api/desk/canned-replies/", {"team_id": team_id, "shortcut": "x", "text": "x"}, format="json"
    )
    assert other.status_code == 404
    assert [
        c["shortcut"] for c in desk.client(desk.agent).get("/api/desk/canned-replies/").json()["results"]
    ] == ["hi"]
    assert desk.client(desk.other_agent).get("/api/desk/canned-replies/").json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "all", "limit": 1},
        {"status": "pending"},
        {"kind": "dm"},
        {"ordering": "newest"},
        {"status": "bogus"},
        {"assignee": "me"},
    ],
)
def test_read_lane_answers_the_queue_like_drf(desk: Team, params: dict[str, Any]) -> None:
    headers = [("Authorization", f"Token {Token.objects.create(user=desk.agent).key}")]
    drf, lane, answered = both("/api/desk/threads/", urlencode(params), headers)
    assert answered is True
    assert lane == drf


def test_read_lane_answers_counts_and_customers_like_drf(desk: Team) -> None:
    headers = [("Authorization", f"Token {Token.objects.create(user=desk.agent).key}")]
    for path in ("/api/desk/threads/counts/", "/api/desk/customers/u1/", "/api/desk/customers/nobody/"):
        drf, lane, answered = both(path, "", headers)
        assert answered is True, path
        assert lane == drf


def test_the_lane_keeps_a_queue_answer_only_until_the_queue_changes_and_per_reader(desk: Team) -> None:
    from datasync.im.api.lane import ReadLane

    lane = ReadLane(Spy(django_app))
    agent = [("Authorization", f"Token {Token.objects.create(user=desk.agent).key}")]
    other = [("Authorization", f"Token {Token.objects.create(user=desk.other_agent).key}")]

    def rows(headers: list[tuple[str, str]], query: str = "") -> list[str]:
        status, _, body = asgi_get(lane, "/api/desk/threads/", query, headers)
        assert status == 200, body
        return [row["id"] for row in json.loads(body)["results"]]

    # given the agent's queue read once (and kept by the lane)
    before = rows(agent)
    assert before == rows(agent)
    # when a customer writes in a new conversation, then the next read has it (the kept body is stale)
    _inbound(desk, "m20", conversation_id="v20")
    after = rows(agent)
    assert after == [*before, _tid(desk, "dm", "v20")]
    # when a thread is resolved through the API, then it leaves the queue at once
    desk.client(desk.agent).post(
        "/api/desk/threads/bulk/", {"action": "resolve", "ids": [after[0]]}, format="json"
    )
    assert rows(agent) == after[1:]
    # a reader of another team with the same request never gets the agent's kept answer
    others = rows(other)
    assert others and not any(row.startswith(f"{desk.account.id}:") for row in others)
    assert rows(agent, f"account_id={desk.account.id}") == after[1:]
    assert rows(other, f"account_id={desk.account.id}") == []


def test_the_browsable_api_shows_the_queue_rows(desk: Team) -> None:
    # the lane leaves HTML to Django; DRF's indented JSON inside the page writes the pre-rendered rows
    response = desk.client(desk.agent).get("/api/desk/threads/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert _tid(desk, "comment", "c1") in response.content.decode()
    indented = desk.client(desk.agent).get("/api/desk/threads/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "results": [\n    {\n      "id": ')
    assert [row["id"] for row in indented.json()["results"]] == _ids(
        desk.client(desk.agent).get("/api/desk/threads/")
    )


def test_reports_audit_and_metrics_count_what_agents_did(desk: Team) -> None:
    from imhub.metrics import metrics_view

    thread = _tid(desk, "dm", "v2")
    client = desk.client(desk.agent)
    opened = client.get(f"/api/desk/threads/{thread}/").json()["as_of"]
    # when the agent answers the waiting customer and resolves the thread
    body = {"text": "好的", "idempotency_key": "r1", "opened_at": opened}
    assert client.post(f"/api/desk/threads/{thread}/reply/", body, format="json").status_code == 202
    assert (
        client.post(
            "/api/desk/threads/bulk/", {"action": "resolve", "ids": [thread]}, format="json"
        ).status_code
        == 200
    )
    # then the report counts one first response by that agent (the customer waited since T0 + 250)
    report = client.get("/api/desk/reports/").json()
    [by_agent] = report["first_response"]["by_agent"]
    assert (by_agent["key"], by_agent["count"]) == ("agent", 1)
    assert by_agent["median_s"] >= (int(time.time() * 1000) - T0 - 250) / 1000 - 60
    [resolved] = report["resolution"]["by_agent"]
    assert (resolved["key"], resolved["count"]) == ("agent", 1)
    assert sum(report["replies_by_hour"]) == 1 and sum(report["resolved_by_hour"]) == 1
    # the audit trail is for staff only, newest first
    assert client.get("/api/desk/audit/").status_code == 404
    audit = desk.client(desk.admin).get("/api/desk/audit/", {"thread": thread}).json()["results"]
    assert [(e["action"], e["actor"]) for e in audit] == [("status", "agent"), ("reply", "agent")]
    # and /metrics shows the queue by status and the medians
    from django.test import RequestFactory

    text = metrics_view(RequestFactory().get("/metrics")).content.decode()
    assert 'imhub_desk_threads{status="resolved"} 1.0' in text
    assert 'imhub_desk_first_response_median_seconds_by_agent{agent="agent"}' in text


def test_saved_filters_are_checked_personal_or_shared_with_a_team(desk: Team) -> None:
    teammate = User.objects.create_user("mate", password="pw")
    team = desk.agent.groups.get()
    teammate.groups.add(team)
    url = "/api/desk/saved-filters/"
    # a filter the queue would refuse is refused when saved, naming the parameter
    bad = desk.client(desk.agent).post(
        url, {"name": "x", "view": "all", "params": {"kind": "tweet"}}, format="json"
    )
    assert (bad.status_code, bad.json()["param"]) == (400, "kind")
    unknown = desk.client(desk.agent).post(
        url, {"name": "x", "view": "all", "params": {"sql": "1"}}, format="json"
    )
    assert (unknown.status_code, unknown.json()["param"]) == (400, "params")
    # a personal one and one shared with the team
    mine = desk.client(desk.agent).post(
        url, {"name": "my dms", "view": "mine", "params": {"kind": "dm"}}, format="json"
    )
    shared = desk.client(desk.agent).post(
        url,
        {"name": "backlog", "view": "all", "params": {"unread": "true"}, "team_id": team.id},
        format="json",
    )
    assert (mine.status_code, shared.status_code) == (201, 201)
    assert shared.json()["params"] == {"unread": "true", "view": "all"}
    # the teammate sees the shared one only, the other team none, and only the owner deletes
    assert [f["name"] for f in desk.client(teammate).get(url).json()["results"]] == ["backlog"]
    assert desk.client(desk.other_agent).get(url).json()["results"] == []
    assert desk.client(teammate).delete(f"{url}{shared.json()['id']}/").status_code == 404
    assert desk.client(desk.agent).delete(f"{url}{shared.json()['id']}/").status_code == 204
    assert [f["name"] for f in desk.client(desk.agent).get(url).json()["results"]] == ["my dms"]
    # sharing with a team one is not in is refused
    other_team = desk.other_agent.groups.get()
    refused = desk.client(desk.agent).post(
        url, {"name": "x", "view": "all", "team_id": other_team.id}, format="json"
    )
    assert refused.status_code == 404

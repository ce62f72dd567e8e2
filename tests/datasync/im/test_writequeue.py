"""The account's write queue on the hub: replies wait their turn (gap, caps, quiet hours, risk hold),
show their place and send time in the API and in reply_status events, are dispatched one at a time when
due, and never fail for waiting while a worker holds the account."""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)
from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Worker
from datasync.im import replies
from datasync.im.models import ReplyRequest
from datasync.protocol.frames import ReplyResultPayload
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: Any) -> list[Any]:
    commands: list[Any] = []
    monkeypatch.setattr(
        replies, "_send_worker_command", lambda *, worker_id, command: commands.append(command)
    )
    return commands


@pytest.fixture
def events(monkeypatch: Any) -> list[dict[str, Any]]:
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(replies, "fanout_publish_sync", lambda *, kind, data: published.append(data))
    return published


def _held(team: Team, **policy: Any) -> Worker:
    worker = Worker.objects.create(worker_id="w1", status="online", platforms=["douyin"])
    for name, value in policy.items():
        setattr(team.account, name, value)
    team.account.worker = worker
    team.account.save()
    return worker


def _done(worker: Worker, reply_id: str) -> float:
    """The worker reports the reply failed (refused: nothing posted); returns when it finished."""
    replies.reply_record_result(worker=worker, result=ReplyResultPayload(reply_id=reply_id, status="failed"))
    moment = ReplyRequest.objects.get(pk=reply_id).finished_at
    assert moment is not None
    return moment.timestamp()


def _post(team: Team, key: str) -> dict[str, Any]:
    response = team.client(team.agent).post(
        "/api/im/replies/",
        {
            "account_id": team.account.id,
            "target": {"kind": "comment", "comment_id": "c1"},
            "text": key,
            "idempotency_key": key,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    return response.json()


def _get(team: Team, reply_id: str) -> dict[str, Any]:
    return team.client(team.agent).get(f"/api/im/replies/{reply_id}/").json()


def _dispatched(reply_id: str) -> float:
    moment = ReplyRequest.objects.get(pk=reply_id).dispatched_at
    assert moment is not None
    return moment.timestamp()


def _eta(status: dict[str, Any]) -> float:
    return dt.datetime.fromisoformat(status["queue"]["eta"]).timestamp()


def test_replies_wait_the_gap_after_the_previous_write_is_done_and_go_one_at_a_time(
    team: Team, sent: list, events: list
) -> None:
    # given an account whose writes are at least 30 s apart
    worker = _held(team, write_gap=30.0)
    # when three replies are posted at once
    first, second, third = (_post(team, key) for key in ("k1", "k2", "k3"))
    # then the first goes at once, the others wait in order, 30 s apart, their place in the API and events
    assert [c.reply_id for c in sent] == [first["id"]]
    assert first["queue"] is None and first["dispatched_at"] is not None
    waiting = [_get(team, second["id"]), _get(team, third["id"])]
    assert [w["queue"]["position"] for w in waiting] == [1, 2]
    assert [round(_eta(w) - _dispatched(first["id"])) for w in waiting] == [30, 60]
    assert [e["queue"]["position"] for e in events if e["id"] == third["id"]] == [2]
    # and while the first is in the worker's hands the next never goes, however late it is
    late = timezone.now() + timedelta(seconds=100)
    assert replies.replies_dispatch_pending(now=late)["dispatched"] == 0
    # when the worker reports it, the next goes 30 s after that, and the places are announced again
    finished = _done(worker, first["id"])
    assert round(_eta(_get(team, second["id"])) - finished) == 30
    early = dt.datetime.fromtimestamp(finished + 10, dt.UTC)
    assert replies.replies_dispatch_pending(now=early)["dispatched"] == 0
    due = dt.datetime.fromtimestamp(finished + 31, dt.UTC)
    assert replies.replies_dispatch_pending(now=due)["dispatched"] == 1
    assert [c.reply_id for c in sent] == [first["id"], second["id"]]
    assert events[-1]["id"] == third["id"] and events[-1]["queue"]["position"] == 1
    assert _get(team, second["id"])["queue"] is None


def test_the_hourly_cap_holds_the_next_reply_for_the_rest_of_the_hour(team: Team, sent: list) -> None:
    worker = _held(team, write_gap=0.0, write_hourly_cap=1)
    first, second = _post(team, "k1"), _post(team, "k2")
    dispatched = _dispatched(first["id"])
    _done(worker, first["id"])
    status = _get(team, second["id"])
    assert round(_eta(status) - dispatched) == 3600 and [c.reply_id for c in sent] == [first["id"]]
    # an hour later it goes
    later = dt.datetime.fromtimestamp(dispatched + 3601, dt.UTC)
    assert replies.replies_dispatch_pending(now=later)["dispatched"] == 1


def test_quiet_hours_and_a_risk_hold_keep_a_reply_queued_and_it_never_fails_for_waiting(
    team: Team, sent: list, settings: Any
) -> None:
    # given quiet hours around now (Asia/Shanghai) and the deadline for an unheld account short
    settings.IMHUB_REPLY_DEADLINE = 60
    local = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    start, end = local - dt.timedelta(minutes=5), local + dt.timedelta(minutes=30)
    _held(team, write_gap=0.0, quiet_hours=f"{start:%H:%M}-{end:%H:%M}")
    # when a reply is posted
    reply = _post(team, "k1")
    # then it waits for the end of the quiet hours, past the deadline too (a worker holds the account)
    assert sent == [] and reply["queue"]["position"] == 1
    assert abs(_eta(reply) - end.replace(second=0, microsecond=0).timestamp()) < 1
    outcome = replies.replies_dispatch_pending(now=timezone.now() + timedelta(seconds=120))
    assert outcome == {"dispatched": 0, "expired": 0} and _get(team, reply["id"])["status"] == "pending"
    # when the quiet hours are lifted but the worker reports a risk hold for two more minutes
    team.account.quiet_hours = ""
    team.account.runner_status = "cooldown"
    team.account.next_run_at = timezone.now() + timedelta(seconds=120)
    team.account.save()
    assert abs(_eta(_get(team, reply["id"])) - team.account.next_run_at.timestamp()) < 1
    assert replies.replies_dispatch_pending()["dispatched"] == 0
    # then it goes once the hold is over
    after = timezone.now() + timedelta(seconds=121)
    assert replies.replies_dispatch_pending(now=after)["dispatched"] == 1
    assert [c.reply_id for c in sent] == [reply["id"]]


def test_the_policy_is_set_per_account_through_the_management_api_and_checked(team: Team) -> None:
    client = team.client(team.admin)
    url = f"/api/manage/accounts/{team.account.id}/"
    bad = client.patch(url, {"quiet_hours": "11pm-7am"}, format="json")
    assert bad.status_code == 400 and "quiet_hours" in str(bad.json()), bad.json()
    assert "HH:MM-HH:MM" in str(bad.json())
    team.account.refresh_from_db()
    assert team.account.quiet_hours == ""
    good = client.patch(
        url,
        {"quiet_hours": "23:00-07:30", "write_gap": 12.5, "write_hourly_cap": 40, "write_daily_cap": 300},
        format="json",
    )
    assert good.status_code == 200, good.content
    body = good.json()
    assert (body["quiet_hours"], body["write_gap"], body["write_hourly_cap"], body["write_daily_cap"]) == (
        "23:00-07:30",
        12.5,
        40,
        300,
    )


def test_a_queued_reply_can_be_withdrawn_and_the_queue_moves_up_but_a_dispatched_one_cannot(
    team: Team, sent: list, events: list
) -> None:
    # given three replies on an account whose writes are 30 s apart (the first handed to the worker)
    _held(team, write_gap=30.0)
    first, second, third = (_post(team, key) for key in ("k1", "k2", "k3"))
    client = team.client(team.agent)
    # when an agent withdraws the second
    response = client.post(f"/api/im/replies/{second['id']}/cancel/")
    # then it is failed "cancelled" (never sent), and the third is now first in line
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["error_code"], body["queue"]) == ("failed", "cancelled", None)
    assert "withdrawn by agent" in body["error_message"]
    assert [c.reply_id for c in sent] == [first["id"]]
    assert _get(team, third["id"])["queue"]["position"] == 1
    assert events[-1]["id"] == third["id"] and events[-1]["queue"]["position"] == 1
    # and a reply already handed to the worker cannot be withdrawn (409), nor twice, nor by another team
    refused = client.post(f"/api/im/replies/{first['id']}/cancel/")
    assert refused.status_code == 409 and refused.json()["error"] == "not_queued", refused.content
    assert "param" not in refused.json()
    again = client.post(f"/api/im/replies/{second['id']}/cancel/")
    assert again.status_code == 409
    other = team.client(team.other_agent).post(f"/api/im/replies/{third['id']}/cancel/")
    assert other.status_code == 404
    assert _get(team, third["id"])["status"] == "pending"

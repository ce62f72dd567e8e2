"""Reply lifecycle: POST validation and idempotency, dispatch to the holding worker, deadline, results."""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Worker
from datasync.im import replies
from datasync.im.models import ReplyRequest
from datasync.models import Entity
from datasync.protocol.frames import ReplyResultPayload
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401
from tests.datasync.store_data import T0, change, comment, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: Any) -> list[tuple[str, dict[str, Any]]]:
    """The commands the hub sends to workers (accounts.commands is the transport; recorded here)."""
    commands: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        replies, "_send_worker_command", lambda *, worker_id, command: commands.append((worker_id, command))
    )
    return commands


def _online_worker(team: Team) -> Worker:
    worker = Worker.objects.create(worker_id="w1", status="online", platforms=["douyin"])
    team.account.worker = worker
    team.account.save()
    return worker


def _post(team: Team, **body: Any) -> Any:
    payload = {
        "account_id": team.account.id,
        "target": {"kind": "comment", "comment_id": "c1"},
        "text": "谢谢支持",
        "idempotency_key": "k1",
        **body,
    }
    return team.client(team.agent).post("/api/im/replies/", payload, format="json")


def test_reply_is_recorded_and_sent_to_the_holding_worker(team: Team, sent: list) -> None:
    # given
    _online_worker(team)
    # when
    response = _post(team)
    # then
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["target"] == {
        "kind": "comment",
        "content_id": "w1",
        "comment_id": "c1",
        "conversation_id": None,
    }
    assert body["dispatched_at"] is not None
    assert (body["attempt"], body["retry_of"]) == (1, None)
    first_attempt_at = int(ReplyRequest.objects.get(pk=body["id"]).created_at.timestamp() * 1000)
    assert [(worker_id, command.as_message()) for worker_id, command in sent] == [
        (
            "w1",
            {
                "name": "reply_request",
                "reply_id": body["id"],
                "account_id": team.account.id,
                "target": {
                    "kind": "comment",
                    "content_id": "w1",
                    "comment_id": "c1",
                    "conversation_id": None,
                },
                "text": "谢谢支持",
                "attempt": 1,
                "first_attempt_at": first_attempt_at,
                "verify_first": False,
            },
        )
    ]


def test_same_idempotency_key_returns_the_same_reply_and_sends_once(team: Team, sent: list) -> None:
    # given
    _online_worker(team)
    first = _post(team)
    # when
    again = _post(team, text="a different text")
    # then
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["text"] == "谢谢支持"
    assert len(sent) == 1
    assert ReplyRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"target": {"kind": "email"}}, 400, "target.kind"),
        ({"target": {"kind": ["comment"]}}, 400, "target.kind"),
        ({"target": {"kind": "comment"}}, 400, "target.comment_id"),
        ({"target": {"kind": "work"}}, 400, "target.content_id"),
        ({"target": {"kind": "message"}}, 400, "target.conversation_id"),
        ({"text": ""}, 400, "text"),
        ({"text": "   "}, 400, "text"),
        ({"idempotency_key": ""}, 400, "idempotency_key"),
        ({"account_id": "x"}, 400, "account_id"),
        ({"target": {"kind": "comment", "comment_id": "nope"}}, 404, None),
        ({"target": {"kind": "work", "content_id": "nope"}}, 404, None),
        ({"target": {"kind": "message", "conversation_id": "nope"}}, 404, None),
    ],
)
def test_bad_reply_requests_change_nothing(
    team: Team, sent: list, body: dict, status: int, param: Any
) -> None:
    # given
    _online_worker(team)
    # when
    response = _post(team, **body)
    # then
    assert response.status_code == status
    assert response.json().get("param") == param
    assert ReplyRequest.objects.count() == 0
    assert sent == []


def test_reply_on_other_teams_account_is_404(team: Team, sent: list) -> None:
    # when
    response = _post(team, account_id=team.other_account.id)
    # then
    assert response.status_code == 404
    assert ReplyRequest.objects.count() == 0


def test_reply_waits_for_a_worker_then_is_dispatched_once(team: Team, sent: list) -> None:
    # given a reply while no worker holds the account
    reply_id = _post(team).json()["id"]
    replies.replies_dispatch_pending()
    assert sent == []
    # when a worker takes the account
    _online_worker(team)
    first = replies.replies_dispatch_pending()
    second = replies.replies_dispatch_pending()
    # then it is sent exactly once
    assert (first, second) == ({"dispatched": 1, "expired": 0}, {"dispatched": 0, "expired": 0})
    assert [command.reply_id for _, command in sent] == [reply_id]


def test_reply_without_worker_fails_no_worker_after_the_deadline(
    team: Team, sent: list, settings: Any
) -> None:
    # given
    settings.IMHUB_REPLY_DEADLINE = 60
    reply_id = _post(team).json()["id"]
    # when
    outcome = replies.replies_dispatch_pending(now=timezone.now() + timedelta(seconds=61))
    # then
    status = team.client(team.agent).get(f"/api/im/replies/{reply_id}/").json()
    assert outcome == {"dispatched": 0, "expired": 1}
    assert (status["status"], status["error_code"]) == ("failed", "no_worker")
    assert sent == []


def test_sent_result_updates_the_reply_and_the_entity_enters_the_store(team: Team, sent: list) -> None:
    # given a dispatched reply
    worker = _online_worker(team)
    reply_id = _post(team).json()["id"]
    entity = comment("c9", content_id="w1", created_at=T0 + 9000, parent_id="c1", is_author=True)
    # when the worker reports it sent
    replies.reply_record_result(
        worker=worker,
        result=ReplyResultPayload.model_validate(
            {"reply_id": reply_id, "status": "sent", "platform_reply_id": "c9", "entity": entity}
        ),
    )
    # then
    status = team.client(team.agent).get(f"/api/im/replies/{reply_id}/").json()
    thread = (
        team.client(team.agent)
        .get("/api/im/discussions/", {"account_id": team.account.id, "parent_id": "c1"})
        .json()
    )
    assert (status["status"], status["platform_reply_id"], status["error_code"]) == ("sent", "c9", None)
    assert [c["comment_id"] for c in thread["results"]] == ["c9", "r1"]
    assert Entity.objects.filter(account=team.account, kind="comments", platform_id="c9").exists()


def test_failed_result_keeps_code_and_message_and_a_second_result_is_refused(team: Team, sent: list) -> None:
    # given
    worker = _online_worker(team)
    reply_id = _post(team).json()["id"]
    failed = ReplyResultPayload(reply_id=reply_id, status="failed", error_code="risk", error_message="验证码")
    # when
    replies.reply_record_result(worker=worker, result=failed)
    with pytest.raises(replies.ReplyError) as again:
        replies.reply_record_result(worker=worker, result=failed)
    # then
    reply = ReplyRequest.objects.get(pk=reply_id)
    assert (reply.status, reply.error_code, reply.error_message) == ("failed", "risk", "验证码")
    assert again.value.code == "already_finished"


def test_result_from_another_worker_or_unknown_reply_is_refused(team: Team, sent: list) -> None:
    # given
    _online_worker(team)
    reply_id = _post(team).json()["id"]
    stranger = Worker.objects.create(worker_id="w2", status="online")
    # when
    with pytest.raises(replies.ReplyError) as wrong_worker:
        replies.reply_record_result(
            worker=stranger, result=ReplyResultPayload(reply_id=reply_id, status="sent")
        )
    with pytest.raises(replies.ReplyError) as unknown:
        replies.reply_record_result(
            worker=stranger, result=ReplyResultPayload(reply_id="nope", status="sent")
        )
    # then
    assert (wrong_worker.value.code, unknown.value.code) == ("not_assigned", "unknown_reply")
    assert ReplyRequest.objects.get(pk=reply_id).status == "pending"


def test_reply_status_of_other_team_is_404(team: Team, sent: list) -> None:
    # given
    _online_worker(team)
    reply_id = _post(team).json()["id"]
    # when
    response = team.client(team.other_agent).get(f"/api/im/replies/{reply_id}/")
    # then
    assert response.status_code == 404


def test_an_unknown_result_is_final_and_kept_apart_from_failed(team: Team, sent: list) -> None:
    # given a dispatched reply
    worker = _online_worker(team)
    reply_id = _post(team).json()["id"]
    unknown = ReplyResultPayload(
        reply_id=reply_id, status="unknown", error_code="no_answer", error_message="no answer in 15 s"
    )
    # when the worker cannot tell whether the platform took it
    replies.reply_record_result(worker=worker, result=unknown)
    replies.replies_dispatch_pending()
    # then the reply is unknown (not failed), keeps why, and is never sent again by the hub
    status = team.client(team.agent).get(f"/api/im/replies/{reply_id}/").json()
    assert (status["status"], status["error_code"], status["error_message"]) == (
        "unknown",
        "no_answer",
        "no answer in 15 s",
    )
    assert status["finished_at"] is not None
    assert len(sent) == 1


def test_an_agents_retry_names_the_earlier_try_and_asks_the_worker_to_verify_first(
    team: Team, sent: list, settings: Any
) -> None:
    settings.IMHUB_WRITE_GAP = 0  # the retry is dispatched at once (the write queue has its own tests)
    # given a reply whose outcome is unknown
    worker = _online_worker(team)
    first = _post(team).json()
    replies.reply_record_result(
        worker=worker,
        result=ReplyResultPayload(reply_id=first["id"], status="unknown", error_code="no_answer"),
    )
    # when the agent retries it, confirming it may already be posted
    response = _post(team, idempotency_key="k2", retry_of=first["id"], confirm=True)
    # then a new reply (attempt 2) is sent with the first try's time and verify_first
    assert response.status_code == 202, response.json()
    retry = response.json()
    assert (retry["attempt"], retry["retry_of"], retry["status"]) == (2, first["id"], "pending")
    command = sent[-1][1].as_message()
    created = int(ReplyRequest.objects.get(pk=first["id"]).created_at.timestamp() * 1000)
    assert (
        command["reply_id"],
        command["attempt"],
        command["first_attempt_at"],
        command["verify_first"],
    ) == (
        retry["id"],
        2,
        created,
        True,
    )
    # and a retry of the retry still points the worker at the first try's time
    replies.reply_record_result(
        worker=worker,
        result=ReplyResultPayload(reply_id=retry["id"], status="failed", error_code="throttled"),
    )
    third = _post(team, idempotency_key="k3", retry_of=retry["id"]).json()
    assert (third["attempt"], sent[-1][1].first_attempt_at) == (3, created)


def test_a_retry_of_an_unknown_reply_without_confirm_is_refused_and_changes_nothing(
    team: Team, sent: list, settings: Any
) -> None:
    settings.IMHUB_WRITE_GAP = 0  # the retry is dispatched at once (the write queue has its own tests)
    # given a reply whose outcome is unknown (it may already be on the platform)
    worker = _online_worker(team)
    first = _post(team).json()
    replies.reply_record_result(
        worker=worker,
        result=ReplyResultPayload(reply_id=first["id"], status="unknown", error_code="no_answer"),
    )
    # when the agent retries it without confirming (or with confirm false)
    for extra in ({}, {"confirm": False}):
        response = _post(team, idempotency_key="k2", retry_of=first["id"], **extra)
        # then the hub asks: 409 confirm_required naming the earlier try; nothing recorded or sent
        assert response.status_code == 409, response.json()
        body = response.json()
        assert (body["error"], body["param"], body["retry_of"]) == (
            "confirm_required",
            "confirm",
            first["id"],
        )
        assert "may already be posted" in body["detail"]
        assert ReplyRequest.objects.count() == 1
        assert len(sent) == 1
    # and a failed reply's retry needs no confirm (nothing can have been posted)
    replies.reply_record_result(
        worker=worker,
        result=ReplyResultPayload(reply_id=_post(team, idempotency_key="k9").json()["id"], status="failed"),
    )
    failed = ReplyRequest.objects.get(idempotency_key="k9")
    assert _post(team, idempotency_key="k10", retry_of=str(failed.pk)).status_code == 202


@pytest.mark.parametrize(
    ("earlier_status", "change", "message"),
    [
        ("pending", {}, "only a failed or unknown reply can be retried; it is pending"),
        ("sent", {}, "only a failed or unknown reply can be retried; it is sent"),
        ("unknown", {"text": "别的话"}, "a retry repeats the earlier reply's target and text"),
        (
            "unknown",
            {"target": {"kind": "work", "content_id": "w1"}},
            "a retry repeats the earlier reply's target and text",
        ),
    ],
)
def test_a_retry_of_a_pending_or_sent_reply_or_of_other_words_is_refused(
    team: Team, sent: list, earlier_status: str, change: dict, message: str
) -> None:
    # given an earlier reply in that state
    worker = _online_worker(team)
    earlier = _post(team).json()
    if earlier_status != "pending":
        replies.reply_record_result(
            worker=worker,
            result=ReplyResultPayload(reply_id=earlier["id"], status=earlier_status),  # type: ignore[arg-type]
        )
    # when a retry of it is posted
    response = _post(team, idempotency_key="k2", retry_of=earlier["id"], **change)
    # then it is refused naming retry_of, and nothing is recorded or sent
    assert response.status_code == 400
    assert (response.json()["param"], response.json()["detail"]) == ("retry_of", message)
    assert ReplyRequest.objects.count() == 1
    assert len(sent) == 1


def test_a_dm_reply_is_taken_when_its_messages_came_before_the_conversation_row(
    team: Team, sent: list
) -> None:
    # given a new peer's message synced in a frame before its conversation's row
    _online_worker(team)
    team.store.apply_change(
        change(team.account.id, seq=2, messages=[message("m-new", conversation_id="conv-new", created_at=T0)])
    )
    # when an agent answers that conversation, then the reply is taken and dispatched
    response = _post(team, target={"kind": "message", "conversation_id": "conv-new"})
    assert response.status_code == 202, response.json()
    assert [command.target["conversation_id"] for _, command in sent] == ["conv-new"]
    # and a conversation the account has no trace of is still 404, with nothing recorded
    missing = _post(team, target={"kind": "message", "conversation_id": "nope"}, idempotency_key="k2")
    assert missing.status_code == 404
    assert ReplyRequest.objects.count() == 1

"""InboxConsumer (/ws/im/) through the real ASGI application: auth, scoping, live events, resume."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Account
from datasync.im import events
from datasync.runtime import runtime
from imhub.asgi import application
from tests.datasync.store_data import T0, change, known_change, message

STEP = 1 << events.TAG_BITS  # consecutive ids of the hub's (tagged) buffer differ by this

pytestmark = pytest.mark.django_db(transaction=True)


def _setup() -> dict[str, Any]:
    red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
    agent = User.objects.create_user("agent", password="pw")
    agent.groups.add(red)
    return {
        "agent": agent,
        "token": Token.objects.create(user=agent).key,
        "mine": Account.objects.create(nickname="mine", team=red).id,
        "theirs": Account.objects.create(nickname="theirs", team=blue).id,
    }


@pytest.fixture
async def world(clean_runtime: Any) -> dict[str, Any]:
    return await database_sync_to_async(_setup)()


async def _connect(token: str | None, query: str = "") -> WebsocketCommunicator:
    headers = [(b"authorization", f"Token {token}".encode())] if token else []
    comm = WebsocketCommunicator(application, f"/ws/im/{query}", headers=headers)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    return comm


async def test_anonymous_is_closed_with_4401(world: dict[str, Any]) -> None:
    # when
    comm = await _connect(None)
    # then
    assert await comm.receive_output(timeout=10) == {"type": "websocket.close", "code": 4401}


async def test_wrong_token_is_closed_with_4401(world: dict[str, Any]) -> None:
    # when
    comm = await _connect("0" * 40)
    # then
    assert await comm.receive_output(timeout=10) == {"type": "websocket.close", "code": 4401}


async def test_new_items_of_visible_accounts_only(world: dict[str, Any]) -> None:
    # given a connected agent
    comm = await _connect(world["token"])
    ready = await comm.receive_json_from(timeout=10)
    await runtime.ensure_ready()
    # when a change arrives for the other team's account, then for the agent's
    runtime.deliver(
        kind="sync",
        data=change(world["theirs"], messages=[message("t1", conversation_id="v", created_at=T0)]),
    )
    runtime.deliver(
        kind="sync", data=change(world["mine"], messages=[message("m1", conversation_id="v", created_at=T0)])
    )
    event = await comm.receive_json_from(timeout=10)
    thread = await comm.receive_json_from(timeout=10)
    # then only the agent's item arrives (the other account's item and its desk thread took two ids),
    # then its desk thread (datasync.desk), and nothing else
    assert ready == {"type": "ready", "last_event_id": ready["last_event_id"]}
    assert event["type"] == "new_item"
    assert event["account_id"] == world["mine"]
    assert event["event_id"] == ready["last_event_id"] + 3 * STEP
    assert event["data"] == {"kind": "message", "record": message("m1", conversation_id="v", created_at=T0)}
    assert (thread["type"], thread["account_id"], thread["data"]["key"]) == ("thread", world["mine"], "v")
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


async def test_resume_replays_missed_events(world: dict[str, Any]) -> None:
    # given an agent that saw the events up to some id, then disconnected
    comm = await _connect(world["token"])
    ready = await comm.receive_json_from(timeout=10)
    await comm.disconnect()
    await runtime.ensure_ready()
    runtime.deliver(
        kind="sync", data=change(world["mine"], messages=[message("m1", conversation_id="v", created_at=T0)])
    )
    runtime.deliver(
        kind="sync",
        data=change(world["mine"], messages=[message("m2", conversation_id="v", created_at=T0 + 1)]),
    )
    # when it reconnects with its last event id
    comm = await _connect(world["token"], f"?last_event_id={ready['last_event_id']}")
    replayed = [await comm.receive_json_from(timeout=10) for _ in range(5)]
    # then the missed events come first (each item, then its desk thread), then ready
    assert [e["type"] for e in replayed[:4]] == ["new_item", "thread", "new_item", "thread"]
    assert [replayed[i]["data"]["record"]["message_id"] for i in (0, 2)] == ["m1", "m2"]
    assert replayed[4] == {"type": "ready", "last_event_id": ready["last_event_id"] + 4 * STEP}
    await comm.disconnect()


async def test_resume_from_too_old_an_id_asks_for_resync(world: dict[str, Any], monkeypatch: Any) -> None:
    # given a buffer of 2 events that has moved on by 3
    small = events.EventBuffer(2)
    monkeypatch.setattr(events, "event_buffer", small)
    monkeypatch.setattr("datasync.im.consumers.event_buffer", small)
    for i in range(3):
        small.publish(type="account_status", account_id=world["mine"], data={"id": world["mine"], "n": i})
    # when the agent resumes from event 0
    comm = await _connect(world["token"], "?last_event_id=0")
    first = await comm.receive_json_from(timeout=10)
    second = await comm.receive_json_from(timeout=10)
    # then
    assert first == {"type": "resync_required"}
    assert second == {"type": "ready", "last_event_id": 3}
    await comm.disconnect()


async def test_read_mark_is_broadcast_and_counted(world: dict[str, Any]) -> None:
    # given an agent connected and data for its account
    comm = await _connect(world["token"])
    await comm.receive_json_from(timeout=10)
    store = await runtime.ensure_ready()
    store.apply_change(known_change(world["mine"]))

    def mark() -> Any:
        client = APIClient()
        client.force_authenticate(world["agent"])
        return client.post(
            "/api/im/read-marks/",
            {"account_id": world["mine"], "target": "conversation", "conversation_id": "v2"},
            format="json",
        )

    # when the agent marks a conversation read
    response = await database_sync_to_async(mark)()
    event = await comm.receive_json_from(timeout=10)
    # then the mark is counted at once and broadcast with its audit fields
    assert response.status_code == 201
    assert response.json()["marked"] == 2
    assert response.json()["unread"] == {"comments": 3, "messages": 1, "total": 4}
    assert event["type"] == "read_mark"
    assert event["data"]["conversation_id"] == "v2"
    assert event["data"]["up_to"] == T0 + 600
    assert event["data"]["marked_by"] == world["agent"].id
    await comm.disconnect()


def _session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def test_session_from_a_foreign_origin_is_refused_with_4403(world: dict[str, Any]) -> None:
    # given the agent's browser session cookie
    cookie = await database_sync_to_async(_session_cookie)(world["agent"])
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"localhost")]
    # when a page of another site opens the socket, and then a page of the hub itself
    foreign = WebsocketCommunicator(
        application, "/ws/im/", headers=[*headers, (b"origin", b"https://evil.example")]
    )
    await foreign.connect(timeout=10)
    refused = await foreign.receive_output(timeout=10)
    own = WebsocketCommunicator(application, "/ws/im/", headers=[*headers, (b"origin", b"http://localhost")])
    await own.connect(timeout=10)
    accepted = await own.receive_json_from(timeout=10)
    # then
    assert refused == {"type": "websocket.close", "code": 4403}
    assert accepted["type"] == "ready"
    await own.disconnect()


@pytest.mark.parametrize(
    "origin",
    [b"http://localhost:9999", b"https://localhost:8000", b"http://localhost:8000.evil.example", b"null"],
)
async def test_an_origin_must_match_scheme_host_and_port_exactly(
    world: dict[str, Any], origin: bytes
) -> None:
    # given the agent's session on the hub at localhost:8000
    cookie = await database_sync_to_async(_session_cookie)(world["agent"])
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"localhost:8000")]
    # when a page of another port (or scheme, or a look-alike host) opens the socket
    other = WebsocketCommunicator(application, "/ws/im/", headers=[*headers, (b"origin", origin)])
    await other.connect(timeout=10)
    # then it is refused, though the host name is allowed
    assert await other.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_a_trusted_origin_is_accepted_exactly(world: dict[str, Any], settings: Any) -> None:
    # given a hub behind a proxy whose public origin is listed in CSRF_TRUSTED_ORIGINS
    settings.CSRF_TRUSTED_ORIGINS = ["https://hub.example:8443"]
    cookie = await database_sync_to_async(_session_cookie)(world["agent"])
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"127.0.0.1:8000")]
    listed = WebsocketCommunicator(
        application, "/ws/im/", headers=[*headers, (b"origin", b"https://hub.example:8443")]
    )
    await listed.connect(timeout=10)
    assert (await listed.receive_json_from(timeout=10))["type"] == "ready"
    await listed.disconnect()
    other_port = WebsocketCommunicator(
        application, "/ws/im/", headers=[*headers, (b"origin", b"https://hub.example:9443")]
    )
    await other_port.connect(timeout=10)
    assert await other_port.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_account_status_reaches_agents_of_the_account(world: dict[str, Any]) -> None:
    # given
    comm = await _connect(world["token"])
    await comm.receive_json_from(timeout=10)
    await runtime.ensure_ready()
    # when
    runtime.deliver(kind="account_status", data={"id": world["theirs"], "login_status": "expired"})
    runtime.deliver(kind="account_status", data={"id": world["mine"], "login_status": "expired"})
    event = await comm.receive_json_from(timeout=10)
    # then
    assert (event["type"], event["account_id"], event["data"]["login_status"]) == (
        "account_status",
        world["mine"],
        "expired",
    )
    await comm.disconnect()


async def test_a_socket_that_falls_too_far_behind_is_closed_with_4008(
    world: dict[str, Any], settings: Any
) -> None:
    # given an agent socket whose budget is 5 queued events
    settings.IMHUB_AGENT_QUEUE_MAX = 5
    comm = await _connect(world["token"])
    ready = await comm.receive_json_from(timeout=10)
    # when 20 events arrive before its pump could send any
    for n in range(20):
        events.event_buffer.publish(type="account_status", account_id=world["mine"], data={"n": n})
    # then it is closed as too slow (it will resume from its last id, or resync), having been sent at
    # most the 5 it had room for, in order
    outputs = []
    while True:
        output = await comm.receive_output(timeout=10)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    sent = [json.loads(o["text"]) for o in outputs if o["type"] == "websocket.send"]
    assert [e["data"]["n"] for e in sent] == list(range(len(sent))) and len(sent) <= 5
    assert all(e["event_id"] > ready["last_event_id"] for e in sent)
    assert outputs[-1] == {"type": "websocket.close", "code": 4008}
    # and it holds no more events: it is off the buffer's subscribers
    events.event_buffer.publish(type="account_status", account_id=world["mine"], data={"n": 99})
    assert await comm.receive_nothing(timeout=0.2)

"""One live connection per worker token (issue 25 #4), through the real ASGI application."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from accounts.models import Worker
from datasync.protocol import RegisterFrame, dump_frame
from imhub.asgi import application
from tests.datasync.conftest import Held

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, "/ws/worker/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )


async def _register(comm: WebsocketCommunicator) -> dict[str, Any]:
    await comm.send_to(text_data=dump_frame(RegisterFrame.build(worker_id="w1", capabilities=["douyin"])))
    return json.loads(await comm.receive_from(timeout=10))


@database_sync_to_async
def _worker(pk: int) -> Worker:
    return Worker.objects.get(pk=pk)


async def test_a_second_connection_with_a_live_token_is_refused_and_recorded(held: Held) -> None:
    # given the worker connected and registered
    first = _connect(held.token)
    assert (await first.connect(timeout=10))[0]
    assert (await _register(first))["type"] == "master:register:ack"

    # when a second connection presents the same token
    second = _connect(held.token)
    assert (await second.connect(timeout=10))[0]

    # then it is closed with 4409 before it could register (no assignments, no cookies), and the refusal
    # is recorded for admin
    assert await second.receive_output(timeout=10) == {"type": "websocket.close", "code": 4409}
    worker = await _worker(held.worker.pk)
    assert worker.refused_count == 1 and worker.refused_at is not None
    # and the first connection still works
    assert (await _register(first))["type"] == "master:register:ack"

    # when the first one disconnects, a new connection is accepted
    await first.disconnect()
    third = _connect(held.token)
    assert (await third.connect(timeout=10))[0]
    assert (await _register(third))["type"] == "master:register:ack"
    await third.disconnect()


async def test_a_holder_that_does_not_answer_is_taken_over(held: Held) -> None:
    # given the token is recorded as held by a connection of a process that died
    await database_sync_to_async(Worker.objects.filter(pk=held.worker.pk).update)(
        connection_id="specific.deadprocess!gone"
    )
    # when the worker connects again, then it is accepted (the dead holder does not answer the probe)
    comm = _connect(held.token)
    assert (await comm.connect(timeout=10))[0]
    assert (await _register(comm))["type"] == "master:register:ack"
    assert (await _worker(held.worker.pk)).connection_id not in ("", "specific.deadprocess!gone")
    await comm.disconnect()
    # and a clean disconnect frees the token
    assert (await _worker(held.worker.pk)).connection_id == ""


@override_settings(IMHUB_WORKER_CONNECTION_REPLACE=True)
async def test_with_replace_on_the_newer_connection_replaces_the_live_one(held: Held) -> None:
    first = _connect(held.token)
    assert (await first.connect(timeout=10))[0]
    assert (await _register(first))["type"] == "master:register:ack"
    # when a second connection comes with replacement allowed
    second = _connect(held.token)
    assert (await second.connect(timeout=10))[0]
    # then the first is closed with 4409 and the second works
    assert await first.receive_output(timeout=10) == {"type": "websocket.close", "code": 4409}
    assert (await _register(second))["type"] == "master:register:ack"
    await second.disconnect()

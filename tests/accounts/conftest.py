"""Fixtures for the accounts tests: an in-memory channel layer to read commands from, worker helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts import services
from accounts.models import Worker


class GroupInbox:
    """A channel added to one channel-layer group; `take()` returns what the group received so far."""

    def __init__(self, group: str) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)

    def take(self) -> list[dict[str, Any]]:
        messages = []
        while (queue := self.layer.channels.get(self.channel)) is not None and not queue.empty():
            messages.append(async_to_sync(self.layer.receive)(self.channel))
        return messages

    def commands(self) -> list[dict[str, Any]]:
        return [m["command"] for m in self.take()]


@pytest.fixture
def inbox() -> Iterator[Callable[[str], GroupInbox]]:
    """Factory of group inboxes on a flushed in-memory layer."""
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield GroupInbox
    async_to_sync(layer.flush)()


def worker_online(
    *, worker_id: str, capacity: int = 10, platforms: tuple[str, ...] = ("douyin",), max_accounts: int = 50
) -> tuple[Worker, list[Any]]:
    """A worker created with a token and connected; returns it and the accounts from its register ack."""
    worker, _token = services.worker_create(worker_id=worker_id, capacity=capacity)
    held = services.worker_connect(
        worker=worker, capabilities=list(platforms), max_accounts=max_accounts, host="h", version="1"
    )
    worker.refresh_from_db()
    return worker, held

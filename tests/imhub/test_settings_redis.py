"""The Redis channel layer's socket timeout must outlast channels-redis's blocking pop.

redis-py 8 defaults ``socket_timeout`` to 5 s, the same as channels-redis's BZPOPMIN timeout: the read
then races the pop and a receive dies with ``redis.exceptions.TimeoutError`` (found by the soak
benchmark: worker sockets closed and fan-out receives failed under load)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool

from tests.support.processes import ROOT, base_env


def _channel_layers(redis_url: str) -> dict[str, object]:
    code = "from django.conf import settings; import json; print(json.dumps(settings.CHANNEL_LAYERS))"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=base_env(REDIS_URL=redis_url), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_redis_socket_timeout_outlasts_the_channel_layers_blocking_pop() -> None:
    # given the settings of a hub with REDIS_URL set
    layers = _channel_layers("redis://127.0.0.1:6379/0")
    # when channels-redis builds its connection pool from them
    host = layers["default"]["CONFIG"]["hosts"][0]  # type: ignore[index]
    pool = create_pool(host)
    # then a read waits longer than the blocking pop it follows
    assert pool.connection_kwargs["socket_timeout"] > RedisChannelLayer.brpop_timeout


@pytest.mark.redis
def test_a_receive_with_nothing_to_receive_waits_without_a_redis_error(redis_url: str) -> None:
    # given a channel layer configured as the settings do, on a real Redis
    host = _channel_layers(redis_url)["default"]["CONFIG"]["hosts"][0]  # type: ignore[index]
    layer = RedisChannelLayer(hosts=[host])

    async def wait_on_an_empty_channel() -> str:
        channel = await layer.new_channel()
        try:
            # two blocking pops' worth of waiting, nothing sent
            await asyncio.wait_for(layer.receive(channel), 2 * RedisChannelLayer.brpop_timeout + 1)
        except TimeoutError:
            return "nothing received"
        return "received"

    # when a receive waits on a channel nobody sends to, then only our own wait ends it
    assert asyncio.run(wait_on_an_empty_channel()) == "nothing received"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_healthz_channel_check_answers_while_the_fanout_listener_waits(
    redis_url: str, settings: Any
) -> None:
    # given this process's runtime started on Redis: its fan-out listener blocks in a pop on its channel
    from channels.layers import channel_layers

    from datasync.runtime import runtime
    from imhub.health import _check_channel_layer

    host = _channel_layers(redis_url)["default"]["CONFIG"]["hosts"][0]  # type: ignore[index]
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    channel_layers.backends.clear()
    await runtime.stop()
    await runtime.ensure_ready()
    try:
        # when the health check round-trips a message through the layer (it waits 2 s at most) a few times
        checks = [await _check_channel_layer() for _ in range(4)]
        # then every check got its message back: the listener's pop does not hold the check's receive up
        assert [c["ok"] for c in checks] == [True] * 4, checks
    finally:
        await runtime.stop()
        channel_layers.backends.clear()

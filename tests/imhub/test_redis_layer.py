"""The Redis channel layer as the hub configures it: an idle receive outlasts channels-redis's 5 s
BZPOPMIN without a client-side read timeout (which could drop a message popped as the client gave up)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from imhub.processes import manage
from tests.support.processes import base_env

pytestmark = [pytest.mark.redis]

SCRIPT = """
import asyncio, json
from channels.layers import get_channel_layer

async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel("probe.")
    out = {}
    try:
        await asyncio.wait_for(layer.receive(channel), timeout=7)
        out["idle"] = "message"
    except asyncio.TimeoutError:
        out["idle"] = "no message, no error"
    except Exception as exc:
        out["idle"] = type(exc).__name__ + ": " + str(exc)
    await layer.send(channel, {"type": "probe", "n": 1})
    out["received"] = (await asyncio.wait_for(layer.receive(channel), timeout=10))["n"]
    print(json.dumps(out))

asyncio.run(main())
"""


def test_an_idle_receive_outlasts_the_blocking_pop_without_a_read_timeout(
    tmp_path: Path, redis_url: str
) -> None:
    redis_url = urlunparse(urlparse(redis_url)._replace(path=f"/{random.randint(1, 15)}"))
    env = base_env(
        REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", IMHUB_VAR_DIR=str(tmp_path)
    )
    out = json.loads(manage("shell", "-c", SCRIPT, env=env).strip().splitlines()[-1])
    assert out == {"idle": "no message, no error", "received": 1}

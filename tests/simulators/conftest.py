"""The Douyin simulator in-process (httpx over ASGI) with helpers to sign calls and hold a session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crawler.simulators.douyin import SimConfig, SimulatorApp, Sizes, create_app
from crawler.simulators.douyin.signing import signed_query

SIZES = Sizes(works=20, comments=300, conversations=25, messages=300)
COMMENT_BASE = "/web/api/third_party/aweme/api/comment/read/aweme/v1/web/comment/list"


@dataclass
class Sim:
    app: SimulatorApp
    client: httpx.AsyncClient

    @property
    def state(self) -> Any:
        return self.app.state

    @property
    def uid(self) -> str:
        return next(iter(self.state.worlds))

    def world(self, uid: str | None = None) -> Any:
        return self.state.worlds[uid or self.uid]

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(method, f"/__sim__/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, uid: str | None = None) -> str:
        """A session for `uid` (default the first account) set on the client; returns the cookie value."""
        cookie = (await self.control("POST", "sessions", {"uid": uid or self.uid}))["cookie"]
        self.client.cookies.set(cookie["name"], cookie["value"])
        return cookie["value"]

    def signed(self, path: str, query: str = "") -> str:
        return f"{path}?{signed_query(self.state.secret, path, query)}"

    async def get(self, path: str, query: str = "") -> httpx.Response:
        return await self.client.get(self.signed(path, query))

    async def get_json(self, path: str, query: str = "") -> Any:
        response = await self.get(path, query)
        assert response.status_code == 200, response.text
        return response.json()

    async def post_json(self, path: str, body: Any) -> Any:
        response = await self.client.post(self.signed(path), json=body)
        assert response.status_code == 200, response.text
        return response.json()


def make_sim(**config: Any) -> Sim:
    app = create_app(SimConfig(**{"seed": 7, "accounts": 2, "sizes": SIZES, **config}))
    # SimulatorApp types its scope as dict, httpx's ASGI type wants MutableMapping; the app is a valid ASGI app
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9")
    return Sim(app=app, client=client)


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    simulator = make_sim()
    async with simulator.client:
        yield simulator


def busiest_work(world: Any) -> str:
    """The work with the most top-level comments (so its comment list has several pages)."""
    return max(world.top_level, key=lambda aweme_id: len(world.top_level[aweme_id]))


def busiest_thread(world: Any) -> str:
    """The top-level comment with the most replies."""
    return max(world.replies, key=lambda cid: len(world.replies[cid]))

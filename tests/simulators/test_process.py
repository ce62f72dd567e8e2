"""`manage.py runsimulator douyin` as a real process: the ready line, the CLI sizes, 20 accounts at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from crawler.simulators.douyin.signing import signed_query
from tests.support.processes import http_json, running_simulator, wait_until

pytestmark = pytest.mark.e2e


def test_runsimulator_prints_its_url_and_serves_the_cli_sizes(tmp_path: Path) -> None:
    # given the command with explicit sizes and live rate
    extra = (
        "--works",
        "5",
        "--comments",
        "40",
        "--conversations",
        "6",
        "--messages",
        "30",
        "--live-rate",
        "0",
    )
    # when it is started as a real process
    with running_simulator(tmp_path, seed=9, accounts=4, extra_args=extra) as sim:
        status, accounts = http_json("GET", f"{sim.base_url}/__sim__/accounts")
        log = sim.process.log_tail()
    # then it printed the ready line and serves the configured sizes
    assert f"simulator douyin listening on {sim.base_url}" in log
    assert status == 200 and len(accounts["accounts"]) == 4
    assert {
        tuple(a["counts"][k] for k in ("contents", "comments", "conversations", "messages"))
        for a in accounts["accounts"]
    } == {(5, 40, 6, 30)}


async def test_twenty_accounts_are_served_concurrently(tmp_path: Path) -> None:
    # given a simulator process with 20 accounts of default size, and a session for each
    with running_simulator(tmp_path, seed=2, accounts=20) as sim:
        accounts = sim.control("GET", "accounts")["accounts"]
        cookies = [sim.control("POST", "sessions", {"uid": a["uid"]})["cookie"]["value"] for a in accounts]
        async with httpx.AsyncClient(timeout=30) as client:
            page = await client.get(
                f"{sim.base_url}/creator-micro/content/manage", headers={"cookie": f"sessionid={cookies[0]}"}
            )
        secret_page = page.text
        secret = secret_page.split('var SECRET = "', 1)[1].split('"', 1)[0]
        path = "/janus/douyin/creator/pc/work_list"
        url = f"{sim.base_url}{path}?{signed_query(secret, path, 'status=0&count=12&max_cursor=0')}"

        # when all 20 list their works at the same time, 3 rounds
        async def crawl(client: httpx.AsyncClient, cookie: str) -> list[str]:
            ids: list[str] = []
            for _ in range(3):
                body = (await client.get(url, headers={"cookie": f"sessionid={cookie}"})).json()
                ids.append(body["aweme_list"][0]["aweme_id"])
            return ids

        async with httpx.AsyncClient(timeout=30) as client:
            results = await asyncio.gather(*(crawl(client, c) for c in cookies))
        truths = [sim.control("GET", f"accounts/{a['uid']}/truth")["contents"][0] for a in accounts]
    # then each session got its own account's newest work every time
    assert [set(r) for r in results] == [{t} for t in truths]


def test_live_rate_from_the_cli_adds_comments_and_messages(tmp_path: Path) -> None:
    # given a simulator started with 600 live items per minute per account
    extra = (
        "--works",
        "3",
        "--comments",
        "10",
        "--conversations",
        "3",
        "--messages",
        "10",
        "--live-rate",
        "600",
    )
    with running_simulator(tmp_path, seed=5, accounts=1, extra_args=extra) as sim:
        uid = sim.control("GET", "accounts")["accounts"][0]["uid"]
        # when some time passes
        counts = wait_until(
            lambda: (c := sim.control("GET", f"accounts/{uid}/truth")["counts"])["messages"] >= 12 and c,
            timeout=30,
            what="live items",
        )
    # then both new comments and new messages arrived
    assert counts["comments"] >= 12 and counts["messages"] >= 12

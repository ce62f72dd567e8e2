"""Signing is enforced on every API, sessions are required and can expire, pages follow the session."""

from __future__ import annotations

import pytest

from crawler.simulators.douyin import signing
from crawler.simulators.douyin.api import API_ROUTES

from .conftest import COMMENT_BASE, Sim

WORKS = "/janus/douyin/creator/pc/work_list"


async def test_unsigned_call_gets_an_empty_200_body(sim: Sim) -> None:
    # given a logged-in session
    await sim.login()
    # when the API is called without the page's signature
    response = await sim.client.get(f"{WORKS}?status=0&count=12&max_cursor=0")
    # then the body is empty (a risk signal, not "no data")
    assert (response.status_code, response.content) == (200, b"")


async def test_wrongly_signed_call_gets_the_risk_code(sim: Sim) -> None:
    # given a correctly signed URL whose query is then altered
    await sim.login()
    url = sim.signed(WORKS, "status=0&count=12&max_cursor=0").replace("count=12", "count=50")
    # when it is called
    response = await sim.client.get(url)
    # then the answer is the risk code
    assert response.json() == {"status_code": 2154, "status_msg": "当前访问存在风险，请完成验证后重试"}


async def test_signed_call_is_accepted(sim: Sim) -> None:
    # given a logged-in session
    await sim.login()
    # when the API is called with the signature the page script computes
    body = await sim.get_json(WORKS, "status=0&count=12&max_cursor=0")
    # then it answers data
    assert body["status_code"] == 0 and len(body["aweme_list"]) == 12


def test_signature_ignores_a_trailing_slash_and_covers_every_parameter() -> None:
    # given a secret and a signed query
    query = signing.signed_query("k", "/aweme/v1/creator/im/user_detail", "user_ids=1,2")
    # when it is checked against the slash form and against a changed query
    same = signing.check("k", "/aweme/v1/creator/im/user_detail/", query)
    changed = signing.check(
        "k", "/aweme/v1/creator/im/user_detail/", query.replace("user_ids=1,2", "user_ids=1,3")
    )
    other_key = signing.check("k2", "/aweme/v1/creator/im/user_detail/", query)
    # then only the unchanged query with the right key passes
    assert (same, changed, other_key) == ("ok", "bad", "bad")
    assert signing.check("k", "/x", "a=1") == "unsigned"


async def test_page_script_embeds_the_secret_and_the_same_hash(sim: Sim) -> None:
    # given a session
    await sim.login()
    # when the works page is loaded
    html = (await sim.client.get("/creator-micro/content/manage")).text
    # then its script carries the signing secret and the FNV constants the server uses
    assert sim.state.secret in html
    assert "Math.imul(h, 16777619)" in html and "0x5bd1e995" in html


async def test_api_without_session_answers_login_required(sim: Sim) -> None:
    # given no session cookie
    # when a signed API call is made
    body = await sim.get_json(f"{COMMENT_BASE}/select/", "aweme_id=1&cursor=0&count=20")
    # then the answer is the login-required code
    assert body == {"status_code": 8, "status_msg": "用户未登录"}


async def test_expired_session_turns_pages_into_the_login_card_and_apis_into_code_8(sim: Sim) -> None:
    # given a working session
    await sim.login()
    assert (await sim.client.get("/creator-micro/home")).status_code == 200
    # when the control API expires the account's sessions
    expired = await sim.control("POST", "sessions/expire", {"uid": sim.uid})
    page = await sim.client.get("/creator-micro/home")
    login = await sim.client.get("/")
    api = await sim.get_json(WORKS, "status=0&count=12&max_cursor=0")
    # then pages redirect to the login card and APIs answer code 8
    assert expired == {"expired": 1}
    assert (page.status_code, page.headers["location"]) == (302, "/")
    assert (
        "扫码登录" in login.text
        and "我是创作者" in login.text
        and 'id="animate_qrcode_container"' in login.text
    )
    assert api["status_code"] == 8


async def test_logged_in_root_redirects_to_home_with_the_profile(sim: Sim) -> None:
    # given a session for the first account
    await sim.login()
    world = sim.world()
    # when / and the home page are loaded
    root = await sim.client.get("/")
    home = await sim.client.get("/creator-micro/home")
    # then / redirects and the home page holds 抖音号：<unique_id> and the counts
    assert (root.status_code, root.headers["location"]) == (302, "/creator-micro/home")
    assert f'<div class="unique_id-Lk9x2">抖音号：{world.unique_id}</div>' in home.text
    assert f'<div class="name-Ij5k6">{world.owner["nickname"]}</div>' in home.text
    assert 'id="guide_home_fans"' in home.text and 'id="guide_home_following"' in home.text


async def test_sessions_are_per_account(sim: Sim) -> None:
    # given sessions for two accounts
    first, second = list(sim.state.worlds)
    await sim.login(second)
    # when the works are listed and the first account's sessions expire
    body = await sim.get_json(WORKS, "status=0&count=50&max_cursor=0")
    await sim.control("POST", "sessions/expire", {"uid": first})
    still = await sim.get_json(WORKS, "status=0&count=1&max_cursor=0")
    # then the second account sees its own works and stays logged in
    assert [w["aweme_id"] for w in body["aweme_list"]] == [
        w["aweme_id"] for w in sorted(sim.world(second).works, key=lambda w: -w["create_time"])
    ]
    assert still["status_code"] == 0


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES))
async def test_every_api_refuses_unsigned_and_wrongly_signed_calls(sim: Sim, method: str, path: str) -> None:
    # given a logged-in session and a correctly signed query for this API
    await sim.login()
    query = signing.signed_query(sim.state.secret, path, "cursor=0&count=5")
    # when it is called unsigned, and with the signature of another path
    unsigned = await sim.client.request(method, f"{path}?cursor=0&count=5", json={})
    wrong = await sim.client.request(method, f"{path}?{query.replace('cursor=0', 'cursor=1')}", json={})
    signed = await sim.client.request(method, f"{path}?{query}", json={})
    # then unsigned is an empty body, wrong is the risk code, signed is answered
    assert (unsigned.status_code, unsigned.content) == (200, b"")
    assert wrong.json()["status_code"] == 2154
    assert signed.status_code == 200 and signed.content and signed.json()["status_code"] != 2154

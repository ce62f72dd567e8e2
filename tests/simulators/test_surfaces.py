"""Surface variants served on request: the `surface` control API, and per variant the shapes the
simulator serves (captured as fixtures under tests/fixtures/douyin/<endpoint>__<variant>.json, which
the crawler's contract tests parse). IMHUB_WRITE_FIXTURES=1 rewrites them.
"""

from __future__ import annotations

from typing import Any

from .conftest import COMMENT_BASE, Sim, busiest_thread, busiest_work
from .test_api_contract import check_fixture

COMMENT_READ = COMMENT_BASE.rsplit("/", 1)[0]


async def test_the_surface_is_chosen_per_simulator_and_per_account(sim: Sim) -> None:
    other = list(sim.state.worlds)[1]
    # when the simulator's surface and one account's are set
    everyone = await sim.control("POST", "surface", {"surface": "ms_times"})
    mine = await sim.control("POST", "surface", {"surface": "notice,reply_list_v2", "uid": sim.uid})
    # then the account's own wins, the other follows the simulator's
    assert everyone == {"surface": {"*": "ms_times"}}
    assert mine == {"surface": {"*": "ms_times", sim.uid: "notice,reply_list_v2"}}
    assert sim.state.surface_of(sim.uid) == {"notice", "reply_list_v2"}
    assert sim.state.surface_of(other) == {"ms_times"}
    assert await sim.control("GET", "surface") == mine


async def test_unknown_or_conflicting_variants_are_refused(sim: Sim) -> None:
    bad = await sim.client.post("/__sim__/surface", json={"surface": "nope"})
    two_qr = await sim.client.post("/__sim__/surface", json={"surface": "qr_alt,qr_aria"})
    assert (bad.status_code, two_qr.status_code) == (400, 400)
    assert "unknown surface variant(s) nope" in bad.json()["error"]


async def _comments(sim: Sim, aweme_id: str) -> dict[str, Any]:
    return await sim.get_json(f"{COMMENT_BASE}/select/", f"aweme_id={aweme_id}&cursor=0&count=20")


async def test_ms_times_serves_comment_times_in_ms_and_message_times_in_three_forms(sim: Sim) -> None:
    await sim.control("POST", "surface", {"surface": "ms_times", "uid": sim.uid})
    await sim.login()
    world = sim.world()
    page = await _comments(sim, busiest_work(world))
    conversation = next(iter(world.conversations))
    messages = await sim.get_json(
        "/sim-im/v1/message/list", f"conversation_id={conversation}&cursor=0&count=20"
    )
    check_fixture("comment_list__ms_times", page)
    check_fixture("messages__fiber_props_ms_times", messages["messages"])
    assert all(int(c["create_time"]) > 10**12 for c in page["comments"])
    forms = {
        next(k for k in ("createdAt", "timestamp", "createTime") if k in m) for m in messages["messages"]
    }
    assert forms == {"createdAt", "timestamp", "createTime"}
    assert all(isinstance(m.get("createdAt", 0), int) for m in messages["messages"])


async def test_reply_list_v2_serves_replies_under_the_other_path_with_the_third_level(sim: Sim) -> None:
    await sim.login()
    world = sim.world()
    parent = busiest_thread(world)
    aweme_id = world.comments[parent]["aweme_id"]
    query = f"comment_id={parent}&item_id={aweme_id}&cursor=0&count=10"
    v2 = await sim.get_json(f"{COMMENT_READ}/reply/list/", query)
    v1 = await sim.get_json(f"{COMMENT_BASE}/reply/", query)
    check_fixture("comment_reply_list__reply_list_v2", v2)
    assert v2 == v1
    assert {c["reply_id"] for c in v2["comments"]} == {parent}
    assert any(c["reply_to_reply_id"] != "0" for c in v2["comments"])


async def test_works_v2_serves_the_second_works_api(sim: Sim) -> None:
    await sim.login()
    first = await sim.get_json("/aweme/v1/creator/item/list/", "count=12&cursor=0")
    second = await sim.get_json("/aweme/v1/creator/item/list/", f"count=12&cursor={first['cursor']}")
    check_fixture("work_item_list__works_v2", first)
    assert sorted(first) == [
        "cursor",
        "has_more",
        "item_info_list",
        "status_code",
        "status_msg",
        "total_count",
    ]
    assert (first["has_more"], second["has_more"], first["total_count"]) == (True, False, 20)
    ids = [i["item_id"] for i in first["item_info_list"] + second["item_info_list"]]
    assert sorted(ids) == sorted(w["aweme_id"] for w in sim.world().works)


async def test_notice_serves_every_fan_comment_as_a_notification(sim: Sim) -> None:
    await sim.login()
    world = sim.world()
    notices, cursor = [], 0
    while True:
        page = await sim.get_json("/aweme/v1/web/notice/detail/", f"notice_group=2&count=50&cursor={cursor}")
        if cursor == 0:
            check_fixture("notice_detail__notice", page)
        notices.extend(page["notice_list_v2"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    fans = {c["cid"] for c in world.comments.values() if c["user_uid"] != world.owner["uid"]}
    assert {n["comment"]["comment"]["cid"] for n in notices} == fans
    assert {n["type"] for n in notices} == {31, 33}
    assert (await sim.control("GET", f"accounts/{sim.uid}/truth"))["counts"]["notices"] == len(fans)


async def test_bad_record_breaks_one_comment_in_ten_and_nothing_else(sim: Sim) -> None:
    await sim.control("POST", "surface", {"surface": "bad_record", "uid": sim.uid})
    await sim.login()
    page = await _comments(sim, busiest_work(sim.world()))
    check_fixture("comment_list__bad_record", page)
    broken = [c for c in page["comments"] if c["create_time"] == "刚刚"]
    assert 0 < len(broken) < len(page["comments"])


async def test_unknown_serves_works_from_a_path_no_adapter_knows(sim: Sim) -> None:
    await sim.control("POST", "surface", {"surface": "unknown", "uid": sim.uid})
    await sim.login()
    body = await sim.get_json("/janus/douyin/creator/pc/work/list_next", "status=0&count=12&max_cursor=0")
    page = (await sim.client.get("/creator-micro/content/manage")).text
    assert len(body["aweme_list"]) == 12
    assert '"surface": ["unknown"]' in page


async def test_each_qr_variant_changes_only_the_login_card_markup(sim: Sim) -> None:
    cards = {}
    for variant in ("default", "qr_alt", "qr_aria", "qr_data_png", "qr_class"):
        await sim.control("POST", "surface", {"surface": variant})
        html = (await sim.client.get("/")).text
        card = html[html.index('<div class="login-card') : html.index('<p class="login-tip')]
        check_fixture(f"login_card__{variant}", {"html": card})
        cards[variant] = card
        fresh = (await sim.client.get("/passport/web/get_qrcode/")).json()["data"]["qrcode"]
        assert fresh.startswith("data:image/png" if variant == "qr_data_png" else "data:image/svg+xml")
    assert 'id="animate_qrcode_container"' in cards["default"]
    assert all('id="animate_qrcode_container"' not in cards[v] for v in cards if v != "default")
    assert 'aria-label="二维码"' in cards["qr_aria"] and 'alt="二维码"' not in cards["qr_aria"]
    assert "QRCode" in cards["qr_class"]

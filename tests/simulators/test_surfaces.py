"""Surface variants served on request: the `surface` control API, and per variant the shapes the
simulator serves (captured as fixtures under tests/fixtures/douyin/<endpoint>__<variant>.json, which
the crawler's contract tests parse). IMHUB_WRITE_FIXTURES=1 rewrites them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from crawler.simulators.douyin.render import id_decrypt, id_encrypt

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


async def test_works_v2_serves_the_item_list_as_captured(sim: Sim) -> None:
    await sim.login()
    moved = await sim.get("/aweme/v1/creator/item/list", "count=12&cursor=0")
    first = await sim.get_json("/aweme/v1/creator/item/list/", "count=12&cursor=0")
    second = await sim.get_json("/aweme/v1/creator/item/list/", f"count=12&cursor={first['cursor']}")
    check_fixture("work_item_list__works_v2", first)
    # the path without the slash moves to the slash form, query kept
    assert moved.status_code == 301
    assert moved.headers["location"].startswith("/aweme/v1/creator/item/list/?count=12&cursor=0&")
    assert sorted(first) == [
        "cursor",
        "has_more",
        "item_info_list",
        "status_code",
        "status_msg",
        "total_count",
    ]
    assert (first["has_more"], second["has_more"], first["total_count"]) == (True, False, 20)
    assert isinstance(first["cursor"], str)
    items = first["item_info_list"] + second["item_info_list"]
    works = {w["aweme_id"]: w for w in sim.world().works}
    # the id to use is item_id_plain; item_id is the encrypted form; the time is display text
    assert sorted(i["item_id_plain"] for i in items) == sorted(works)
    assert all(i["item_id"].startswith("@j") and i["item_id"] != i["item_id_plain"] for i in items)
    first_item = items[0]
    assert re.fullmatch(r"发布于\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", first_item["create_time"])
    assert {i["media_type"] for i in items} >= {4, 2}


async def test_comment_list_v2_serves_the_captured_comment_apis(sim: Sim) -> None:
    await sim.control("POST", "surface", {"surface": "comment_list_v2", "uid": sim.uid})
    await sim.login()
    world = sim.world()
    parent = busiest_thread(world)
    aweme_id = world.comments[parent]["aweme_id"]
    item_id = id_encrypt(aweme_id)
    # when the page asks for a work's comments and a thread's replies by their encrypted ids
    page = await sim.get_json(
        "/aweme/v1/creator/comment/list/", f"item_id={quote(item_id)}&sort=TIME&cursor=0&count=50"
    )
    replies = await sim.get_json(
        "/aweme/v1/creator/comment/reply/list/",
        f"comment_id={quote(id_encrypt(parent))}&item_id={quote(item_id)}&cursor=0&count=10",
    )
    check_fixture("comment_list__comment_list_v2", page)
    check_fixture("comment_reply_list__comment_list_v2", replies)
    # then both are comment_info_list with encrypted ids, string times and counts and no work id
    assert sorted(page) == [
        "comment_info_list",
        "cursor",
        "has_more",
        "has_vcd_filter",
        "status_code",
        "status_msg",
        "total_count",
    ]
    tops = [id_decrypt(c["comment_id"]) for c in page["comment_info_list"]]
    assert tops == world.top_level[aweme_id][:50]
    assert [id_decrypt(c["comment_id"]) for c in replies["comment_info_list"]] == world.replies[parent][:10]
    for entry in page["comment_info_list"] + replies["comment_info_list"]:
        assert isinstance(entry["create_time"], str) and isinstance(entry["digg_count"], str)
        assert not {"aweme_id", "item_id", "cid"} & set(entry)
        assert sorted(entry["user_info"]) == ["avatar_url", "screen_name", "user_id"]
    assert {c["level"] for c in replies["comment_info_list"]} == {2}
    truth = await sim.control("GET", f"accounts/{sim.uid}/truth")
    assert {c["served_id"] for c in truth["comments"]} >= {c["comment_id"] for c in page["comment_info_list"]}
    # and a reply posted to an encrypted id lands in that thread
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/",
        {"item_id": item_id, "reply_id": id_encrypt(parent), "text": "收到"},
    )
    assert world.replies[parent][-1] == answer["comment_info"]["comment_id"]


async def test_image_and_sticker_comments_carry_their_media_with_empty_text(sim: Sim) -> None:
    await sim.login()
    world = sim.world()
    aweme_id = world.works[0]["aweme_id"]
    image = await sim.control(
        "POST", "inject/comment", {"uid": sim.uid, "aweme_id": aweme_id, "media": "image"}
    )
    sticker = await sim.control(
        "POST", "inject/comment", {"uid": sim.uid, "aweme_id": aweme_id, "media": "sticker"}
    )
    page = await _comments(sim, aweme_id)
    check_fixture("comment_list__media", {**page, "comments": page["comments"][:2]})
    served = {c["cid"]: c for c in page["comments"]}
    assert served[image["cid"]]["text"] == "" and served[sticker["cid"]]["text"] == ""
    assert served[image["cid"]]["image_list"][0]["origin_url"]["url_list"][0].startswith("https://")
    assert served[image["cid"]]["sticker"] is None
    assert served[sticker["cid"]]["sticker"]["static_url"]["url_list"][0].endswith(".webp")
    assert served[sticker["cid"]]["image_list"] is None
    # and the generated history has some of each too
    assert any(c["images"] for c in world.comments.values()) and any(
        c["sticker"] for c in world.comments.values()
    )


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


async def test_empty_lists_keep_their_totals_while_listing_nothing(sim: Sim) -> None:
    await sim.control("POST", "surface", {"surface": "empty_works,empty_comments", "uid": sim.uid})
    await sim.login()
    world = sim.world()
    works = await sim.get_json("/janus/douyin/creator/pc/work_list", "status=0&count=12&max_cursor=0")
    comments = await _comments(sim, busiest_work(world))
    assert (works["aweme_list"], works["has_more"], works["total"]) == ([], 0, len(world.works))
    assert (comments["comments"], comments["has_more"]) == ([], 0) and comments["total"] > 0

"""Contract tests: every simulator API answers the platform's shapes (types and units), and the captured
fixtures under tests/fixtures/douyin/ (used by the crawler's parser tests) still match what it serves.

Set IMHUB_WRITE_FIXTURES=1 to rewrite the fixture files from the simulator (then review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from crawler.simulators.douyin.data import IMAGE_TYPES, WORK_TYPES

from .conftest import COMMENT_BASE, Sim, busiest_thread, busiest_work

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "douyin"
WRITE = os.environ.get("IMHUB_WRITE_FIXTURES") == "1"


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value; list elements are merged (types joined with '|')."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        merged: Any = None
        for item in value:
            merged = _merge(merged, shape(item))
        return ["list", merged]
    return type(value).__name__


def _merge(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {key: _merge(a.get(key), b.get(key)) for key in sorted(set(a) | set(b))}
    if isinstance(a, list) and isinstance(b, list):
        return ["list", _merge(a[1], b[1])]
    if a == b:
        return a
    return "|".join(sorted(set(str(a).split("|")) | set(str(b).split("|"))))


def check_fixture(name: str, payload: Any) -> None:
    path = FIXTURES / f"{name}.json"
    if WRITE:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert path.exists(), f"missing fixture {path.name} (run with IMHUB_WRITE_FIXTURES=1 to capture it)"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert shape(payload) == shape(stored), f"{name}: the simulator no longer serves the fixture's shape"


async def test_work_list_pages_follow_the_platform_shape(sim: Sim) -> None:
    # given a logged-in session
    await sim.login()
    # when the works are paged with max_cursor as the page does
    first = await sim.get_json("/janus/douyin/creator/pc/work_list", "status=0&count=12&max_cursor=0")
    second = await sim.get_json(
        "/janus/douyin/creator/pc/work_list", f"status=0&count=12&max_cursor={first['max_cursor']}"
    )
    # then the body is {status_code, aweme_list, items, has_more, max_cursor, total} with aligned metrics
    assert sorted(first) == [
        "aweme_list",
        "has_more",
        "items",
        "max_cursor",
        "status_code",
        "status_msg",
        "total",
    ]
    assert (first["status_code"], first["has_more"], first["total"]) == (0, 1, 20)
    assert (second["has_more"], len(first["aweme_list"]), len(second["aweme_list"])) == (0, 12, 8)
    works = first["aweme_list"] + second["aweme_list"]
    assert len({w["aweme_id"] for w in works}) == 20
    for work, item in zip(first["aweme_list"], first["items"], strict=True):
        assert item["item_id"] == work["aweme_id"]
        assert all(isinstance(v, str) for v in item["metrics"].values())
        assert int(item["metrics"]["comment_count"]) == work["statistics"]["comment_count"]
    for work in works:
        assert work["aweme_id"].isdigit() and len(work["aweme_id"]) == 19
        assert (
            isinstance(work["create_time"], int | str)
            and 1_000_000_000 < int(work["create_time"]) < 10_000_000_000
        )
        assert work["aweme_type"] in WORK_TYPES
        assert isinstance(work["duration"], int)
        assert (work["duration"] == 0) == (work["aweme_type"] in IMAGE_TYPES)
        assert sorted(work["statistics"]) == [
            "aweme_id",
            "collect_count",
            "comment_count",
            "digg_count",
            "play_count",
            "share_count",
        ]
        assert work["video"]["cover"]["url_list"][0].startswith("https://")
    assert first["max_cursor"] == int(first["aweme_list"][-1]["create_time"]) * 1000
    assert {type(w["create_time"]) for w in works} == {int, str}
    # every kind is served: videos (0, 4), image posts (2, 68, 150) and a number no adapter knows
    assert {w["aweme_type"] for w in works} == set(WORK_TYPES)
    check_fixture("work_list__page1", first)
    check_fixture("work_list__last_page", second)


async def test_comment_list_pages_with_cursor_until_has_more_is_0(sim: Sim) -> None:
    # given a work with several pages of top-level comments
    await sim.login()
    world = sim.world()
    aweme_id = busiest_work(world)
    seen: list[dict[str, Any]] = []
    cursor, pages = 0, []
    # when the page walks the cursor
    while True:
        page = await sim.get_json(f"{COMMENT_BASE}/select/", f"aweme_id={aweme_id}&cursor={cursor}&count=20")
        pages.append(page)
        seen.extend(page["comments"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    # then every top-level comment comes once, in the platform's comment shape
    assert [c["cid"] for c in seen] == world.top_level[aweme_id]
    assert pages[0]["total"] == len(world.top_level[aweme_id]) + sum(
        len(world.replies.get(c, [])) for c in world.top_level[aweme_id]
    )
    assert {p["has_more"] for p in pages[:-1]} <= {1} and pages[-1]["has_more"] == 0
    for comment in seen:
        assert comment["level"] == 1 and comment["reply_id"] == "0" and comment["aweme_id"] == aweme_id
        assert comment["cid"].isdigit() and isinstance(comment["text"], str) and comment["ip_label"]
        assert int(comment["create_time"]) > 1_000_000_000
        assert comment["reply_comment_total"] == len(world.replies.get(comment["cid"], []))
        assert sorted(comment["user"]) == ["avatar_thumb", "nickname", "sec_uid", "uid"]
        assert comment["user"]["sec_uid"].startswith("MS4wLjABAAAA")
    check_fixture("comment_list__page1", pages[0])


async def test_comment_reply_list_returns_level_2_replies_with_author_labels(sim: Sim) -> None:
    # given the thread with the most replies
    await sim.login()
    world = sim.world()
    parent = busiest_thread(world)
    aweme_id = world.comments[parent]["aweme_id"]
    # when its replies are fetched page by page
    first = await sim.get_json(
        f"{COMMENT_BASE}/reply/", f"comment_id={parent}&item_id={aweme_id}&cursor=0&count=3"
    )
    rest = await sim.get_json(
        f"{COMMENT_BASE}/reply/", f"comment_id={parent}&item_id={aweme_id}&cursor=3&count=50"
    )
    # then they are level 2 with reply_id = parent, oldest first, and the author's carry 作者
    replies = first["comments"] + rest["comments"]
    assert [r["cid"] for r in replies] == world.replies[parent]
    assert (first["has_more"], rest["has_more"], first["total"]) == (1, 0, len(world.replies[parent]))
    assert {(r["level"], r["reply_id"]) for r in replies} == {(2, parent)}
    assert all(r["label_text"] == ("作者" if r["user"]["uid"] == sim.uid else "") for r in replies)
    check_fixture("comment_reply_list__page1", first)


async def test_some_replies_answer_other_replies_and_name_them(sim: Sim) -> None:
    # given the generated data
    world = sim.world()
    # when looking at replies to replies
    nested = [c for c in world.comments.values() if c["reply_to_reply_id"] != "0"]
    by_author = [c for c in world.comments.values() if c["is_author"]]
    # then they name the user they answer, and the author answered some comments
    assert nested and by_author
    for comment in nested:
        target = world.comments[comment["reply_to_reply_id"]]
        assert comment["reply_to_username"] == world.users[target["user_uid"]]["nickname"]
        assert comment["reply_to_userid"] == target["user_uid"]


async def test_user_detail_redirects_to_the_slash_form_and_lists_users(sim: Sim) -> None:
    # given two conversation peers
    await sim.login()
    peers = [c["peer_uid"] for c in list(sim.world().conversations.values())[:2]]
    # when the page's call without the trailing slash is made
    redirected = await sim.get("/aweme/v1/creator/im/user_detail", f"user_ids={','.join(peers)}")
    body = await sim.get_json("/aweme/v1/creator/im/user_detail/", f"user_ids={','.join(peers)}")
    # then it is a 301 to the slash form (query kept) and the answer lists the users
    assert redirected.status_code == 301
    assert redirected.headers["location"].startswith("/aweme/v1/creator/im/user_detail/?user_ids=")
    follow = await sim.client.get(redirected.headers["location"])
    assert follow.json() == body
    assert [u["user_id"] for u in body["user_list"]] == peers
    assert sorted(body["user_list"][0]["user"]) == ["avatar_thumb", "nickname", "sec_uid", "signature", "uid"]
    check_fixture("user_detail__page1", body)


async def test_comment_reply_is_accepted_with_a_platform_id_and_appears_in_the_list(sim: Sim) -> None:
    # given a comment on a work
    await sim.login()
    world = sim.world()
    aweme_id = busiest_work(world)
    target = world.top_level[aweme_id][0]
    # when the page posts a reply to it
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/", {"item_id": aweme_id, "reply_id": target, "text": "谢谢支持🙏"}
    )
    # then the answer is the captured one: comment_info with the new id, text and time, and no work id
    assert (answer["status_code"], answer["status_msg"]) == (0, "")
    info = answer["comment_info"]
    new_id = info["comment_id"]
    assert new_id.isdigit() and info["text"] == "谢谢支持🙏" and isinstance(info["create_time"], int)
    assert not {"aweme_id", "item_id", "cid"} & set(info)
    # and the reply list shows it labelled 作者
    replies = await sim.get_json(
        f"{COMMENT_BASE}/reply/", f"comment_id={target}&item_id={aweme_id}&cursor=0&count=50"
    )
    mine = [r for r in replies["comments"] if r["cid"] == new_id]
    assert [(r["text"], r["label_text"], r["user"]["uid"]) for r in mine] == [("谢谢支持🙏", "作者", sim.uid)]
    check_fixture("comment_reply__ok", answer)


async def test_comment_reply_on_a_refused_work_is_a_non_zero_status_with_reason(sim: Sim) -> None:
    # given a work made private through the control API
    await sim.login()
    aweme_id = sim.world().works[0]["aweme_id"]
    await sim.control("POST", "faults/refuse-replies", {"aweme_ids": [aweme_id]})
    before = len(sim.world().comments)
    # when a reply is posted on it
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/", {"item_id": aweme_id, "reply_id": "0", "text": "你好"}
    )
    # then it is refused with the reason and nothing is added
    assert answer == {"status_code": 2060, "status_msg": "作品已设为私密，暂时无法评论"}
    assert len(sim.world().comments) == before
    check_fixture("comment_reply__refused", answer)


async def test_reply_to_a_reply_lands_in_the_same_thread_naming_the_replied_user(sim: Sim) -> None:
    # given a level-2 reply
    await sim.login()
    world = sim.world()
    parent = busiest_thread(world)
    reply = world.replies[parent][0]
    # when the author replies to it
    answer = await sim.post_json(
        "/aweme/v1/creator/comment/reply/",
        {"item_id": world.comments[parent]["aweme_id"], "reply_id": reply, "text": "同感"},
    )
    # then the new comment sits under the top-level parent and names the replied user
    info = answer["comment_info"]
    created = world.comments[info["comment_id"]]
    assert (created["reply_id"], created["reply_to_reply_id"], created["level"], info["level"]) == (
        parent,
        reply,
        2,
        2,
    )
    assert created["reply_to_username"] == world.users[world.comments[reply]["user_uid"]]["nickname"]
    assert world.replies[parent][-1] == info["comment_id"]


async def test_im_lists_give_conversations_and_messages_as_fiber_props(sim: Sim) -> None:
    # given a logged-in session
    await sim.login()
    world = sim.world()
    # when the chat page's sim-only list endpoints are called
    conversations = await sim.get_json("/sim-im/v1/conversation/list", "cursor=0&count=30")
    with_notice = next(c for c in world.conversations.values() if c["messages"][0]["aweType"] == 701)
    cid = with_notice["conversation_id"]
    newest = await sim.get_json(
        "/sim-im/v1/message/list", f"conversation_id={cid.replace(':', '%3A')}&cursor=0&count=20"
    )
    everything = await sim.get_json("/sim-im/v1/message/list", f"conversation_id={cid}&cursor=0&count=100")
    # then conversations are newest first and messages carry the documented props
    assert conversations["total"] == len(world.conversations) and conversations["has_more"] == 0
    stamps = [c["updatedAt"] for c in conversations["conversations"]]
    assert stamps == sorted(stamps, reverse=True)
    row = conversations["conversations"][0]
    assert sorted(row) == ["conversationId", "lastMessage", "peer", "unreadCount", "updatedAt"]
    assert newest["messages"] == everything["messages"][-len(newest["messages"]) :]
    notice = everything["messages"][0]
    assert (notice["content"]["aweType"], notice["type"]) == (701, 1)
    owner = sim.uid
    for message in everything["messages"][1:]:
        assert message["conversationId"] == cid and cid.startswith("0:1:")
        assert message["isFromMe"] == (message["sender"] == owner)
        if message["type"] == 7:
            assert message["content"]["aweType"] == 700
        else:  # a fan's media message: sticker, voice, image or shared video, no text
            assert message["type"] in (5, 17, 27, 8) and "text" not in message["content"], message
        assert message["createdAt"].endswith("Z") and message["createdAt"][10] == "T"
    assert {m["isFromMe"] for m in everything["messages"][1:]} == {True, False}
    check_fixture(
        "im_conversation_list__page1", {**conversations, "conversations": conversations["conversations"][:5]}
    )
    check_fixture("messages__fiber_props", everything["messages"][:6])


async def test_message_send_returns_the_message_with_a_server_id(sim: Sim) -> None:
    # given a conversation
    await sim.login()
    cid = next(iter(sim.world().conversations))
    # when the chat page sends a message
    answer = await sim.post_json(
        "/sim-im/v1/message/send", {"conversation_id": cid, "text": "在的，请问有什么可以帮您？"}
    )
    # then it is stored from the account with a serverId and logged
    message = answer["message"]
    assert (answer["status_code"], message["isFromMe"], message["content"]["text"]) == (
        0,
        True,
        "在的，请问有什么可以帮您？",
    )
    assert sim.world().conversations[cid]["messages"][-1]["serverId"] == message["serverId"]
    log = (await sim.control("GET", "log"))["log"]
    assert [(e["kind"], e["server_id"]) for e in log] == [("message_send", message["serverId"])]
    message["createdAt"] = "2025-11-28T03:20:00.000Z"
    check_fixture("im_message_send__ok", answer)


async def test_risk_and_login_answers_have_documented_bodies(sim: Sim) -> None:
    # given no session, then a session under rate limiting
    no_session = await sim.get_json("/janus/douyin/creator/pc/work_list", "status=0&count=12&max_cursor=0")
    await sim.login()
    await sim.control("POST", "faults/rate-limit", {"per_minute": 1})
    await sim.get_json("/janus/douyin/creator/pc/work_list", "status=0&count=12&max_cursor=0")
    limited = await sim.get_json("/janus/douyin/creator/pc/work_list", "status=0&count=12&max_cursor=0")
    bad = await sim.client.get("/janus/douyin/creator/pc/work_list?status=0&aid=2906&msToken=x&a_bogus=00")
    # then they are the documented codes
    assert no_session == {"status_code": 8, "status_msg": "用户未登录"}
    assert limited == {"status_code": 2155, "status_msg": "操作太频繁，请稍后再试"}
    assert bad.json()["status_code"] == 2154
    check_fixture("api__login_required", no_session)
    check_fixture("api__rate_limited", limited)
    check_fixture("api__risk", bad.json())

"""Douyin parsers on captured payloads (tests/fixtures/douyin/): units converted once, quirks handled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.errors import CrawlError, LoginExpired, LoginUncertain, RiskDetected
from crawler.platforms.douyin import parsers
from datasync.protocol import Person

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "douyin"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def page(parsed: parsers.Parsed[Any]) -> tuple[list[Any], bool]:
    assert parsed.skipped == []
    return parsed.records, parsed.has_more


def test_work_list_page_converts_seconds_and_prefers_metrics() -> None:
    # given a captured work_list page
    body = load("work_list__page1.json")

    # when it is parsed
    works, more = page(parsers.work_list_parse(body=body))

    # then every work is there, times are epoch ms and counters come from metrics
    first, metrics = body["aweme_list"][0], body["items"][0]["metrics"]
    assert more is True
    assert [w.content_id for w in works] == [a["aweme_id"] for a in body["aweme_list"]]
    assert works[0].published_at == int(first["create_time"]) * 1000
    assert works[0].stats.views == int(metrics["view_count"])
    assert works[0].stats.comments == int(metrics["comment_count"])
    assert works[0].title == first["desc"]
    assert works[0].cover_url == first["video"]["cover"]["url_list"][0]


def test_work_list_string_create_time_is_converted_too() -> None:
    body = load("work_list__crawler_page1.json")
    quirky = [a for a in body["aweme_list"] if isinstance(a["create_time"], str)]

    works, _ = page(parsers.work_list_parse(body=body))

    by_id = {w.content_id: w for w in works}
    assert quirky
    assert [by_id[a["aweme_id"]].published_at for a in quirky] == [
        int(a["create_time"]) * 1000 for a in quirky
    ]


def test_last_work_page_has_no_more() -> None:
    _, more = page(parsers.work_list_parse(body=load("work_list__last_page.json")))
    assert more is False


def test_top_level_comments_have_no_parent_and_string_times_become_ms() -> None:
    body = load("comment_list__page1.json")

    comments, more = page(parsers.comment_list_parse(body=body))

    raw = body["comments"][0]
    assert more is True
    assert len(comments) == len(body["comments"])
    assert comments[0].comment_id == raw["cid"]
    assert comments[0].parent_id is None
    assert comments[0].created_at == int(raw["create_time"]) * 1000
    assert comments[0].author.avatar_url == raw["user"]["avatar_thumb"]["url_list"][0]


def test_replies_point_at_their_top_level_comment() -> None:
    body = load("comment_reply_list__page1.json")

    comments, _ = page(parsers.comment_list_parse(body=body))

    assert [c.parent_id for c in comments] == [r["reply_id"] for r in body["comments"]]
    assert all(c.parent_id not in (None, "0") for c in comments)


def test_the_reply_answer_is_the_authors_comment_on_the_target_it_was_posted_to() -> None:
    # given the captured answer: comment_info with the new id, text and time, and no work id
    body = load("comment_reply__ok.json")
    info = body["comment_info"]

    # when it is read for a reply to comment "7301" on work "7298"
    platform_id, comment = parsers.reply_answer_parse(
        body=body, status=200, content_id="7298", parent_id="7301", now_ms=1
    )

    # then it is the account's own comment in that thread, with the platform's id and time
    assert comment is not None
    assert (platform_id, comment.comment_id, comment.content_id, comment.parent_id) == (
        "7566864433692459826",
        "7566864433692459826",
        "7298",
        "7301",
    )
    assert (comment.is_author, comment.text, comment.created_at) == (True, info["text"], 1_761_532_920_000)


def test_messages_from_fiber_props_skip_system_notices() -> None:
    props = load("messages__fiber_props.json")

    messages = [m for m in (parsers.message_parse(props=p) for p in props) if m is not None]

    user_props = [p for p in props if p["content"].get("aweType") != 701]
    assert [m.message_id for m in messages] == [p["serverId"] for p in user_props]
    assert [m.direction for m in messages] == ["out" if p["isFromMe"] else "in" for p in user_props]
    assert messages[0].created_at == parsers.iso_to_ms(user_props[0]["createdAt"])
    voice = next(m for m in messages if m.msg_type == "voice")
    served = next(p for p in props if p["serverId"] == voice.message_id)["content"]
    assert [(a.type, a.url, a.duration_ms) for a in voice.attachments] == [
        ("voice", served["resource_url"]["url_list"][0], served["duration"])
    ]


def test_captured_messages_json_content_media_types_receipts_and_created_time() -> None:
    # given the captured message shapes: content a JSON string, only createdTime on most, every type
    props = load("chat_messages__captured.json")
    # when each is parsed
    parsed = {p["serverId"][-1]: parsers.message_parse(props=p) for p in props}
    # then the system notice (aweType 701) and the read receipt (50001) are skipped
    assert parsed["1"] is None and parsed["7"] is None
    # text keeps its line break; times come from createdTime, ISO createdAt or ms createdAt
    text = parsed["2"]
    assert text is not None and (text.msg_type, text.text, text.created_at) == (
        "text",
        "老板在吗\n想问一下[赞]",
        1761532860000,
    )
    kinds = {
        k: (m.msg_type, m.text, [a.model_dump(exclude_defaults=True) for a in m.attachments])
        for k, m in parsed.items()
        if m
    }
    assert kinds["3"] == (
        "sticker",
        "",
        [
            {
                "type": "sticker",
                "url": "https://p3-pc-sign.douyinpic.com/obj/tos-cn-i-0004/sticker_3601.webp",
                "width": 240,
                "height": 240,
            }
        ],
    )
    assert parsed["3"] is not None and parsed["3"].created_at == parsers.iso_to_ms("2025-10-27T02:42:00.000Z")
    assert kinds["4"] == (
        "voice",
        "",
        [{"type": "voice", "url": "https://v3-dy-o.zjcdn.com/abc/im-voice.mp3", "duration_ms": 7000}],
    )
    assert kinds["5"] == (
        "image",
        "",
        [
            {
                "type": "image",
                "url": "https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/x~tplv-dy-im-origin.jpeg",
                "thumb_url": "https://p3-pc-sign.douyinpic.com/tos-cn-i-0813/x~tplv-dy-im-medium.jpeg",
                "width": 1080,
                "height": 1440,
            }
        ],
    )
    assert kinds["6"] == (
        "video",
        "",
        [
            {
                "type": "video",
                "url": "https://www.douyin.com/video/7566000000000000123",
                "thumb_url": "https://p3-pc-sign.douyinpic.com/cover.jpeg",
                "item_id": "7566000000000000123",
            }
        ],
    )
    # the account's own message is "out"; a type no one knows keeps its number
    assert parsed["8"] is not None and parsed["8"].direction == "out"
    assert kinds["9"] == ("type_66", "", [])


def test_captured_conversation_rows_take_the_peer_from_the_id_and_participants() -> None:
    # given the captured chat grid items: id 0:1:<uid>:<uid>, participants without uids, _lastMessage or
    # lastMessage or only coreInfo.lastMessage, _badgeCount
    rows = load("chat_conversations__captured.json")
    # when the account's uid is found from the rows (the sender of its own message) and each is parsed
    me, me_sec = parsers.self_uid(rows), parsers.self_sec_uid(rows)
    parsed = [parsers.conversation_parse(props=row, people={}, me=me, me_sec=me_sec) for row in rows]
    # then each has its id, the peer (uid from the id, name and sec_uid from its participant), unread,
    # time, and a preview (a media last message shows as its label)
    assert (me, me_sec) == ("3502885951", "MS4wLjABAAAAself")
    assert [(c.conversation_id, c.peer.id, c.peer.nickname, c.peer.sec_uid) for c in parsed] == [
        ("0:1:3502885951:6614958697", "6614958697", "小王同学", "MS4wLjABAAAApeer"),
        ("0:1:3502885951:7700000001", "7700000001", "路人甲", "MS4wLjABAAAAother"),
        ("0:1:3502885951:7700000002", "7700000002", "第三位", "MS4wLjABAAAAthird"),
    ]
    assert [(c.platform_unread, c.last_message_at, c.last_message_preview) for c in parsed] == [
        (2, 1761533100000, "[视频]"),
        (0, parsers.iso_to_ms("2025-10-27T03:00:00.000Z"), "谢谢"),
        (1, 1761530000000, "在吗"),
    ]
    # and with user_detail's peers the name comes from there; without `me` nor peers the peer is unknown
    people = {"7700000001": Person(id="7700000001", sec_uid="MS4wLjABAAAAother", nickname="路人甲")}
    second = parsers.conversation_parse(props=rows[1], people=people)
    assert (second.peer.id, second.peer.nickname, second.peer.sec_uid) == (
        "7700000001",
        "路人甲",
        "MS4wLjABAAAAother",
    )
    with pytest.raises(KeyError):
        parsers.conversation_parse(props=rows[0], people={})
    # the names the chat header may show are the participants'
    assert parsers.conversation_names(rows[0]) == {"我的小店", "小王同学"}
    # without any sender of its own, the one uid every id holds is the account's
    assert parsers.self_uid([{k: v for k, v in row.items() if k != "lastMessage"} for row in rows]) == me


def test_iso_times_become_epoch_ms() -> None:
    assert parsers.iso_to_ms("2026-06-24T01:45:07.123Z") == 1782265507123


def test_conversation_rows_take_the_peer_from_user_detail() -> None:
    chat = load("chat_fiber_props__crawler.json")
    people = parsers.user_detail_parse(body=load("user_detail__crawler.json"))
    row = chat["conversations"][0]

    conversation = parsers.conversation_parse(props=row, people=people)

    assert conversation.conversation_id == row["conversationId"]
    assert conversation.peer.id == row["peer"]["uid"]
    assert conversation.peer.nickname == people[row["peer"]["uid"]].nickname
    assert conversation.last_message_preview == row["lastMessage"]["content"]["text"]


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("api__login_required.json", LoginUncertain),  # status 8: logged out or throttled
        ("api__risk.json", RiskDetected),
        ("api__rate_limited.json", RiskDetected),
    ],
)
def test_error_bodies_raise_their_class(fixture: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        parsers.work_list_parse(body=load(fixture))
    # a read never decides a logout by itself: that takes a login signal (crawler/platforms/douyin/site.py)
    assert not isinstance(raised.value, LoginExpired)


def test_an_empty_body_is_a_risk_signal_not_no_data() -> None:
    with pytest.raises(RiskDetected):
        parsers.comment_list_parse(body=None)  # type: ignore[arg-type]


def test_other_status_codes_are_crawl_errors() -> None:
    with pytest.raises(CrawlError, match="status_code 5"):
        parsers.work_list_parse(body={"status_code": 5, "status_msg": "x"})


def test_short_counts() -> None:
    assert [parsers.short_count_parse(t) for t in ("987", "1.2w", "35.6万", "")] == [987, 12000, 356000, None]

"""Contract per surface variant: the adapter's parsers and locators on what the simulator serves in
that variant (fixtures captured by tests/simulators/test_surfaces.py, tests/fixtures/douyin/).

Each variant must parse to exact records; a record no parser can read is skipped and reported, never
the rest of its page; a body of an unknown shape is `SurfaceChanged` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crawler.browser_path import chromium_executable, chromium_launch_args
from crawler.drift import sample_save, secrets_strip
from crawler.errors import (
    CrawlError,
    LoginExpired,
    LoginUncertain,
    ReplyFailed,
    ReplyThrottled,
    ReplyUnknown,
    RiskDetected,
    SurfaceChanged,
)
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "douyin"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# ---- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_764_000_000, 1_764_000_000_000),
        ("1764000000", 1_764_000_000_000),
        (1_764_000_000_123, 1_764_000_000_123),
        ("1764000000123", 1_764_000_000_123),
        (1_764_000_000.5, 1_764_000_000_500),
        ("2025-11-24T16:00:00.123Z", 1_764_000_000_123),
        ("2025-11-25T00:00:00+08:00", 1_764_000_000_000),
    ],
)
def test_times_in_seconds_ms_or_iso_become_epoch_ms(value: Any, expected: int) -> None:
    assert parsers.epoch_ms(value) == expected


@pytest.mark.parametrize("value", [None, "", "刚刚", 0, True])
def test_unreadable_times_raise(value: Any) -> None:
    with pytest.raises(ValueError):
        parsers.epoch_ms(value)


def test_ms_times_comments_parse_to_the_same_instants_in_ms() -> None:
    body = load("comment_list__ms_times.json")
    parsed = parsers.comment_list_parse(body=body)
    assert parsed.skipped == []
    assert [c.created_at for c in parsed.records] == [int(raw["create_time"]) for raw in body["comments"]]
    assert all(c.created_at > 10**12 for c in parsed.records)


def test_ms_times_messages_take_created_at_timestamp_or_create_time() -> None:
    props = load("messages__fiber_props_ms_times.json")
    by_form = {}
    for p in props:
        message = parsers.message_parse(props=p)
        form = next(k for k in ("createdAt", "timestamp", "createTime") if k in p)
        if message is not None:
            by_form[form] = (message.created_at, p[form])
    assert by_form["createdAt"][0] == by_form["createdAt"][1]
    assert by_form["timestamp"][0] == by_form["timestamp"][1] * 1000
    assert by_form["createTime"][0] == by_form["createTime"][1]


# ---- comment APIs --------------------------------------------------------------------------------


def test_reply_list_v2_matches_its_path_and_keeps_the_third_level() -> None:
    body = load("comment_reply_list__reply_list_v2.json")
    path = f"{L.COMMENT_READ}/reply/list/"
    parsed = parsers.comment_list_parse(body=body)
    third = {c.comment_id: c.reply_to_reply_id for c in parsed.records}
    expected = {
        raw["cid"]: (None if raw["reply_to_reply_id"] == "0" else raw["reply_to_reply_id"])
        for raw in body["comments"]
    }
    assert L.COMMENT_REPLY_LIST_API.match(path) == "reply_list"
    assert L.COMMENT_REPLY_LIST_API.match(path.rstrip("/")) == "reply_list"
    assert L.COMMENT_REPLY_LIST_API.match(f"{L.COMMENT_READ}/list/reply/") == "list_reply"
    assert L.COMMENT_REPLY_LIST_API.match(f"{L.COMMENT_READ}/reply/listing/") is None
    assert third == expected
    assert any(third.values())


def test_notices_become_notifications_naming_the_comment_and_work() -> None:
    body = load("notice_detail__notice.json")
    parsed = parsers.notice_list_parse(body=body)
    first, raw = parsed.records[0], body["notice_list_v2"][0]
    assert L.NOTICE_API.match("/aweme/v1/web/notice/detail/") == "notice_detail"
    assert len(parsed.records) == len(body["notice_list_v2"]) and parsed.skipped == []
    assert (first.notification_id, first.related_comment_id, first.related_content_id) == (
        raw["nid_str"],
        raw["comment"]["comment"]["cid"],
        raw["comment"]["aweme"]["aweme_id"],
    )
    assert first.type == {31: "comment", 33: "comment_reply"}[raw["type"]]
    assert first.created_at == raw["create_time"] * 1000


def test_one_unreadable_comment_is_skipped_and_reported_never_the_page() -> None:
    body = load("comment_list__bad_record.json")
    broken = [i for i, raw in enumerate(body["comments"]) if raw["create_time"] == "刚刚"]
    parsed = parsers.comment_list_parse(body=body)
    assert len(parsed.records) == len(body["comments"]) - len(broken)
    assert [n.locator for n in parsed.skipped] == [f"comment_list.comments[{i}]" for i in broken]
    assert parsed.skipped[0].message == "ValueError: create_time is not a time: '刚刚'"
    assert parsed.skipped[0].sample["cid"] == body["comments"][broken[0]]["cid"]


# ---- works ---------------------------------------------------------------------------------------


def test_works_v2_reads_the_item_list_as_captured() -> None:
    # given the item list as captured: encrypted item_id, item_id_plain, display-text times
    body = load("work_item_list__works_v2.json")
    parsed = parsers.work_list_parse(body=body)
    first, raw = parsed.records[0], body["item_info_list"][0]
    # then the path matches with or without the slash, and each work is its plain id
    assert L.WORK_LIST_API.match("/aweme/v1/creator/item/list/") == "item_list"
    assert L.WORK_LIST_API.match("/aweme/v1/creator/item/list") == "item_list"
    assert L.WORK_LIST_API.match("/janus/douyin/creator/pc/work_list") == "work_list"
    assert L.WORK_LIST_API.match("/janus/douyin/creator/pc/work/list_next") is None
    assert (len(parsed.records), parsed.has_more, parsed.skipped) == (12, True, [])
    assert [w.content_id for w in parsed.records] == [i["item_id_plain"] for i in body["item_info_list"]]
    assert raw["item_id"].startswith("@jfFo") and first.content_id == raw["item_id_plain"]
    # "发布于2025年10月27日 10:42" in Asia/Shanghai is 02:42 UTC
    assert raw["create_time"] == "发布于2025年10月27日 10:42"
    assert first.published_at == 1_761_532_920_000
    assert (first.title, first.url, first.cover_url) == (
        raw["title"],
        raw["item_link"],
        raw["cover_image_url"],
    )
    assert first.stats.comments == raw["comment_count"]
    by_media = {i["media_type"]: w.type for i, w in zip(body["item_info_list"], parsed.records, strict=True)}
    assert (by_media[4], by_media[2]) == ("video", "image")
    assert all(w.platform_type is None for w in parsed.records)  # the item list sends no aweme_type


def test_an_item_list_entry_without_a_plain_id_is_skipped_and_reported() -> None:
    body = load("work_item_list__works_v2.json")
    del body["item_info_list"][1]["item_id_plain"]
    parsed = parsers.work_list_parse(body=body)
    assert len(parsed.records) == len(body["item_info_list"]) - 1
    assert [(n.locator, n.message) for n in parsed.skipped] == [
        ("work_list.item_info_list[1]", "missing 'item_id_plain'")
    ]


def test_aweme_types_0_and_4_are_videos_2_68_150_images_and_another_number_is_kept() -> None:
    body = load("work_list__page1.json")
    works = {w.content_id: w for w in parsers.work_list_parse(body=body).records}
    seen = {a["aweme_type"]: works[a["aweme_id"]] for a in body["aweme_list"]}
    assert {t: (w.type, w.platform_type) for t, w in seen.items()} == {
        0: ("video", 0),
        4: ("video", 4),
        2: ("image", 2),
        68: ("image", 68),
        150: ("image", 150),
        101: ("other", 101),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布于2025年10月27日 10:42", 1_761_532_920_000),
        ("发布于2025年1月5日 00:07", 1_736_006_820_000),
        ("2025年10月27日 10:42", 1_761_532_920_000),
    ],
)
def test_display_times_are_read_in_china_time(text: str, expected: int) -> None:
    assert parsers.epoch_ms(text) == expected


# ---- captured comment APIs -----------------------------------------------------------------------


def test_comment_list_v2_takes_the_work_from_the_page_and_the_parent_from_the_request() -> None:
    # given the captured comment list and a reply list of one of its comments
    body = load("comment_list__comment_list_v2.json")
    replies_body = load("comment_reply_list__comment_list_v2.json")
    assert L.COMMENT_LIST_API.match("/aweme/v1/creator/comment/list/") == "creator_list"
    assert L.COMMENT_REPLY_LIST_API.match("/aweme/v1/creator/comment/reply/list/") == "creator_reply_list"
    assert L.COMMENT_REPLY_POST_API.match("/aweme/v1/creator/comment/reply/list/") is None
    # when they are read for the work the page chose and the comment whose replies it asked for
    tops = parsers.comment_list_parse(body=body, content_id="7300")
    replies = parsers.comment_list_parse(body=replies_body, content_id="7300", parent_id="@j/parent")
    # then every entry is kept with its encrypted id, the work, its parent and its units converted
    first, raw = tops.records[0], body["comment_info_list"][0]
    assert (tops.skipped, replies.skipped) == ([], [])
    assert [c.comment_id for c in tops.records] == [e["comment_id"] for e in body["comment_info_list"]]
    assert first.comment_id.startswith("@j/") and first.created_at == 1_703_200_978_000
    assert {c.content_id for c in tops.records + replies.records} == {"7300"}
    assert {c.parent_id for c in tops.records} == {None}
    assert {c.parent_id for c in replies.records} == {"@j/parent"}
    assert (first.author.id, first.author.nickname, first.author.avatar_url) == (
        raw["user_info"]["user_id"],
        raw["user_info"]["screen_name"],
        raw["user_info"]["avatar_url"],
    )
    assert [c.likes for c in tops.records] == [int(e["digg_count"]) for e in body["comment_info_list"]]
    assert [c.reply_count for c in tops.records] == [int(e["reply_count"]) for e in body["comment_info_list"]]
    assert [c.is_author for c in replies.records] == [
        e["is_author"] for e in replies_body["comment_info_list"]
    ]
    answering = [
        (c, e)
        for c, e in zip(replies.records, replies_body["comment_info_list"], strict=True)
        if e["reply_to_user_info"]
    ]
    assert answering and all(
        c.reply_to is not None and c.reply_to.id == e["reply_to_user_info"]["user_id"] for c, e in answering
    )


def test_a_captured_comment_without_the_chosen_work_is_skipped_not_guessed() -> None:
    parsed = parsers.comment_list_parse(body=load("comment_list__comment_list_v2.json"))
    assert parsed.records == [] and parsed.skipped
    assert parsed.skipped[0].message == "missing 'item_id'"


def test_image_and_sticker_comments_become_attachments_with_empty_text() -> None:
    body = load("comment_list__media.json")
    comments = {c.comment_id: c for c in parsers.comment_list_parse(body=body).records}
    image_raw = next(r for r in body["comments"] if r["image_list"])
    sticker_raw = next(r for r in body["comments"] if r["sticker"])
    image, sticker = comments[image_raw["cid"]], comments[sticker_raw["cid"]]
    assert (image.text, sticker.text) == ("", "")
    assert [a.model_dump() for a in image.attachments] == [
        {
            "type": "image",
            "url": image_raw["image_list"][0]["origin_url"]["url_list"][0],
            "thumb_url": image_raw["image_list"][0]["medium_url"]["url_list"][0],
            "width": image_raw["image_list"][0]["width"],
            "height": image_raw["image_list"][0]["height"],
            "duration_ms": None,
            "item_id": "",
        }
    ]
    assert [(a.type, a.url) for a in sticker.attachments] == [
        ("sticker", sticker_raw["sticker"]["static_url"]["url_list"][0])
    ]


def test_emoji_codes_stay_in_the_text() -> None:
    raw = load("comment_list__page1.json")["comments"][0] | {"text": "太好看了[赞][比心]"}
    assert parsers.comment_parse(raw=raw).text == "太好看了[赞][比心]"


# ---- reply answers -------------------------------------------------------------------------------


def test_an_accepted_answer_without_a_record_is_still_accepted() -> None:
    assert parsers.reply_answer_parse(
        body={"status_code": 0, "status_msg": ""}, status=200, content_id="1", parent_id=None, now_ms=5
    ) == (None, None)
    platform_id, comment = parsers.reply_answer_parse(
        body={"status_code": 0, "comment_info": {"comment_id": "75"}},
        status=200,
        content_id="1",
        parent_id=None,
        now_ms=1_764_000_000_123,
    )
    assert platform_id == "75" and comment is not None and comment.created_at == 1_764_000_000_123


@pytest.mark.parametrize(
    ("body", "status", "error", "code"),
    [
        (load("comment_reply__throttled.json"), 200, ReplyThrottled, "throttled"),
        ({"status_code": 2155, "status_msg": "操作太频繁"}, 200, ReplyThrottled, "throttled"),
        ({}, 429, ReplyThrottled, "throttled"),
        ({}, 471, ReplyThrottled, "throttled"),
        (load("comment_reply__refused.json"), 200, ReplyFailed, "platform_2060"),
        (None, 200, ReplyUnknown, "answer_unreadable"),
        ({"unexpected": True}, 200, ReplyUnknown, "answer_unreadable"),
    ],
)
def test_reply_answers_that_refuse_or_say_nothing(
    body: Any, status: int, error: type[CrawlError], code: str
) -> None:
    with pytest.raises(error) as raised:
        parsers.reply_answer_parse(body=body, status=status, content_id="1", parent_id=None, now_ms=5)
    assert raised.value.code == code
    if body and body.get("status_msg"):
        assert body["status_msg"] in raised.value.message


# ---- risk signals on reads -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429, 461, 471])
def test_risk_http_statuses_are_risk(status: int) -> None:
    with pytest.raises(RiskDetected) as raised:
        parsers.comment_list_parse(body=None, status=status)
    assert f"HTTP {status}" in raised.value.message


def test_status_8_on_a_read_is_uncertain_not_a_logout() -> None:
    with pytest.raises(LoginUncertain) as raised:
        parsers.work_list_parse(body=load("api__login_required.json"))
    assert isinstance(raised.value, RiskDetected) and not isinstance(raised.value, LoginExpired)


def test_a_works_body_of_unknown_shape_is_surface_changed_naming_the_field() -> None:
    body = {"status_code": 0, "data": {"list": [{"id": "1"}]}, "has_more": 1}
    with pytest.raises(SurfaceChanged) as caught:
        parsers.work_list_parse(body=body)
    assert caught.value.locator == "work_list.aweme_list"
    assert caught.value.sample == body
    assert (
        "no list under aweme_list / item_info_list (keys: data, has_more, status_code)"
        in caught.value.message
    )


def test_an_empty_page_with_null_list_is_empty_not_drift() -> None:
    parsed = parsers.comment_list_parse(body={"status_code": 0, "comments": None, "has_more": 0, "total": 0})
    assert (parsed.records, parsed.has_more) == ([], False)


# ---- samples -------------------------------------------------------------------------------------


def test_drift_samples_are_saved_without_secrets(tmp_path: Path) -> None:
    sample = {
        "url": "/aweme/v1/web/notice/detail/?count=20&msToken=abc123&a_bogus=f00d&aid=2906",
        "cookies": [{"name": "sessionid", "value": "s3cr3t"}],
        "storage_state": {"cookies": []},
        "nested": [{"Authorization": "Bearer x", "text": "好看"}],
    }
    path = sample_save(
        data_dir=tmp_path, account_id=3, locator="notice.notice_list_v2", message="m", sample=sample
    )
    text = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "surface" and path.name.startswith("3-")
    assert "abc123" not in text and "f00d" not in text and "s3cr3t" not in text and "Bearer" not in text
    assert json.loads(text)["sample"]["nested"] == [{"Authorization": "[stripped]", "text": "好看"}]
    assert secrets_strip("/x?aid=2906&msToken=abc") == "/x?aid=2906&msToken=[stripped]"


# ---- login QR, in Chromium -----------------------------------------------------------------------


@pytest.fixture
async def blank_page() -> AsyncIterator[Any]:
    if chromium_executable() is None:
        pytest.skip("no Chromium found (set IMHUB_CHROMIUM)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_executable(), args=chromium_launch_args())
        yield await browser.new_page()
        await browser.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("variant", "locator"),
    [
        ("default", "qr_container"),
        ("qr_alt", "qr_alt"),
        ("qr_aria", "qr_aria"),
        ("qr_data_png", "qr_data_png"),
        ("qr_class", "qr_class"),
    ],
)
async def test_each_login_card_variant_is_found_by_its_own_qr_locator(
    blank_page: Any, variant: str, locator: str
) -> None:
    from crawler.platforms.douyin.login import qr_image_find

    # given the login card as the simulator serves it in that variant
    await blank_page.set_content(load(f"login_card__{variant}.json")["html"])
    # when the adapter looks for the QR
    found = await qr_image_find(blank_page)
    # then the variant's own locator finds it, and no earlier one does
    assert found is not None and found[0] == locator
    assert await found[1].screenshot()
    earlier = [name for name, _ in L.QR_IMAGE.variants][: [n for n, _ in L.QR_IMAGE.variants].index(locator)]
    for name in earlier:
        if variant != "default":
            assert await blank_page.locator(dict(L.QR_IMAGE.variants)[name]).count() == 0


async def test_status_8_without_any_login_cookie_is_a_logout() -> None:
    from crawler.platforms.douyin.site import Site, login_uncertain_resolve

    class Context:
        async def cookies(self, url: str) -> list[dict[str, str]]:
            return [{"name": "msToken", "value": "x"}, {"name": "ttwid", "value": "y"}]

    cause = LoginUncertain("work_list: 用户未登录 (8): logged out or throttled")
    with pytest.raises(LoginExpired) as raised:
        await login_uncertain_resolve(Site(base_url="http://127.0.0.1:9"), Context(), cause)  # type: ignore[arg-type]
    assert raised.value.message == "work_list: 用户未登录 (8): logged out or throttled; no login cookie"

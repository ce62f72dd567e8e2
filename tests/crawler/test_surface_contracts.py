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
from crawler.errors import SurfaceChanged
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


def test_works_v2_parses_like_the_first_works_api() -> None:
    body = load("work_item_list__works_v2.json")
    parsed = parsers.work_list_parse(body=body)
    first, raw = parsed.records[0], body["item_info_list"][0]
    assert L.WORK_LIST_API.match("/aweme/v1/creator/item/list/") == "item_list"
    assert L.WORK_LIST_API.match("/janus/douyin/creator/pc/work_list") == "work_list"
    assert L.WORK_LIST_API.match("/janus/douyin/creator/pc/work/list_next") is None
    assert (len(parsed.records), parsed.has_more, parsed.skipped) == (12, True, [])
    assert (first.content_id, first.title, first.published_at) == (
        raw["item_id"],
        raw["title"],
        raw["create_time"] * 1000,
    )
    assert first.stats.comments == int(raw["metrics"]["comment_count"])
    assert first.cover_url == raw["cover_image_url"]


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

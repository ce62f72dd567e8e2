"""End-to-end in every surface variant: one simulator, hub and worker for the module, each account
served its own variant (`POST /__sim__/surface`), so each variant runs through the real adapter in
Chromium. Known variants sync id for id (the captured item list and comment lists too); the default
surface's captured shapes (every work type, image and sticker comments, reply answers without a work
id) reach the IM API as the simulator's ground truth has them; the bad record is skipped and reported;
a variant no adapter knows turns its account `surface_changed` (API, admin, /metrics, a saved sample)
while the others keep syncing; each login-QR variant logs an account in.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.crawler.support import Stack, crawler_stack, im_ids, im_walk, truth_ids, wait_synced
from tests.support.processes import http_json, wait_until

pytestmark = pytest.mark.e2e

KNOWN = ["ms_times", "reply_list_v2", "works_v2", "comment_list_v2", "notice", "encoded_cid", "chat_v2"]
ACCOUNTS = [*KNOWN, "default", "bad_record", "unknown", "empty_works", "empty_comments", "qr"]
SIZES = ("--works", "6", "--comments", "30", "--conversations", "3", "--messages", "12")
KINDS = {0: "video", 4: "video", 2: "image", 68: "image", 150: "image"}  # aweme_type -> type


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    kinds = ["qr" if name == "qr" else "session" for name in ACCOUNTS]
    workdir = tmp_path_factory.mktemp("surfaces")
    with crawler_stack(workdir, kinds=kinds, sim_args=SIZES, interval=20.0, start=False) as running:
        for name, uid in zip(ACCOUNTS, running.uids, strict=True):
            surface = "default" if name in ("qr", "default") else name
            running.sim.control("POST", "surface", {"surface": surface, "uid": uid})
        running.worker_start()
        yield running


def _account(stack: Stack, name: str) -> tuple[int, str]:
    index = ACCOUNTS.index(name)
    return stack.account_ids[index], stack.uids[index]


def _broken_cids(stack: Stack, uid: str) -> set[str]:
    """The top-level comments `bad_record` serves with an unreadable time (see render.comment_item)."""
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    return {c["cid"] for c in truth["comments"] if c["level"] == 1 and int(c["cid"][-2:]) % 10 == 3}


@pytest.mark.parametrize("variant", KNOWN)
def test_each_known_variant_syncs_id_for_id(stack: Stack, variant: str) -> None:
    account_id, uid = _account(stack, variant)
    # when the worker crawls an account served in this variant
    wait_synced(stack, account_id, uid, timeout=240)
    # then the IM API matches the simulator's ground truth id for id, and the runner is healthy
    assert im_ids(stack, account_id) == truth_ids(stack, uid)
    account = stack.account(account_id)
    assert (account["runner_status"], account["last_error"]) in {
        ("idle", ""),
        ("running", ""),
        ("crawling", ""),
    }
    truth = stack.sim.control("GET", f"accounts/{uid}/truth?full=1")
    if variant == "notice":
        # and the notice API's notifications arrived too
        notices = truth["counts"]["notices"]
        wait_until(
            lambda: stack.account(account_id)["counts"].get("notifications") == notices,
            timeout=120,
            what="the notifications",
        )
    if variant == "comment_list_v2":
        # and, with the incremental reads, a fan's reply under the oldest comment of the busiest work
        # (further down the captured list) arrives under its encrypted id, the rest still id for id
        tops: dict[str, list[dict[str, Any]]] = {}
        for c in truth["comments"]:
            if c["level"] == 1:
                tops.setdefault(c["aweme_id"], []).append(c)
        oldest = max(tops.values(), key=len)[0]
        made = stack.sim.control("POST", "inject/comment", {"uid": uid, "reply_to": oldest["cid"]})
        after = stack.sim.control("GET", f"accounts/{uid}/truth")
        served = next(c["served_id"] for c in after["comments"] if c["cid"] == made["cid"])
        wait_until(
            lambda: served in im_ids(stack, account_id)["comments"],
            timeout=180,
            what="the reply under the oldest comment",
        )
        assert im_ids(stack, account_id) == truth_ids(stack, uid)
    if variant == "reply_list_v2":
        # and a fan's reply to a reply keeps that third level through the hub
        second = next(c for c in truth["comments"] if c["level"] == 2)
        third = stack.sim.control("POST", "inject/comment", {"uid": uid, "reply_to": second["cid"]})
        wait_until(
            lambda: third["cid"] in im_ids(stack, account_id)["comments"],
            timeout=180,
            what="the third-level reply",
        )
        replies = im_walk(
            stack, f"/api/im/discussions/?account_id={account_id}&parent_id={third['reply_id']}"
        )
        served = next(r for r in replies if r["comment_id"] == third["cid"])
        assert (served["parent_id"], served["reply_to_reply_id"]) == (second["reply_id"], second["cid"])


def _reply(stack: Stack, account_id: int, target: dict[str, Any], text: str) -> dict[str, Any]:
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {"account_id": account_id, "target": target, "text": text, "idempotency_key": text},
    )
    assert status == 202, created
    return wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=150,
        what=f"reply {text!r} to finish",
    )


def test_every_work_type_is_read_and_the_platforms_number_kept(stack: Stack) -> None:
    account_id, uid = _account(stack, "default")
    wait_synced(stack, account_id, uid, timeout=240)
    # when the account's works (aweme_type 0, 4, 68, 2, 150 and 101) are crawled
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")["content_types"]
    works = {w["content_id"]: w for w in im_walk(stack, f"/api/im/contents/?account_id={account_id}")}
    # then 0 and 4 are videos, 2, 68 and 150 image posts, 101 "other", each keeping its number
    assert sorted(truth.values()) == [0, 2, 4, 68, 101, 150]
    assert {aweme_id: (works[aweme_id]["type"], works[aweme_id]["platform_type"]) for aweme_id in truth} == {
        aweme_id: (KINDS.get(number, "other"), number) for aweme_id, number in truth.items()
    }


def test_image_and_sticker_comments_reach_the_api_as_attachments(stack: Stack) -> None:
    account_id, uid = _account(stack, "default")
    wait_synced(stack, account_id, uid, timeout=240)
    work = stack.sim.control("GET", f"accounts/{uid}/truth")["contents"][0]
    # when a fan comments with an image and another with a sticker (no text)
    image = stack.sim.control("POST", "inject/comment", {"uid": uid, "aweme_id": work, "media": "image"})
    sticker = stack.sim.control("POST", "inject/comment", {"uid": uid, "aweme_id": work, "media": "sticker"})
    wait_until(
        lambda: {image["cid"], sticker["cid"]} <= set(im_ids(stack, account_id)["comments"]),
        timeout=180,
        what="the media comments",
    )
    # then the IM API has each with empty text and its media as typed attachments, as the platform served
    # them; so do the image and sticker comments of the account's history
    truth = stack.sim.control("GET", f"accounts/{uid}/truth?full=1")
    served = {c["cid"]: c for c in truth["records"]["comments"]}
    media = [c for c in truth["comments"] if c["media"]]
    api = {
        c["comment_id"]: c
        for c in im_walk(stack, f"/api/im/discussions/?account_id={account_id}&content_id={work}")
    }
    for cid in (image["cid"], sticker["cid"]):
        assert api[cid]["text"] == ""
    assert [(a["type"], a["url"]) for a in api[image["cid"]]["attachments"]] == [
        ("image", served[image["cid"]]["image_list"][0]["origin_url"]["url_list"][0])
    ]
    assert [(a["type"], a["url"]) for a in api[sticker["cid"]]["attachments"]] == [
        ("sticker", served[sticker["cid"]]["sticker"]["static_url"]["url_list"][0])
    ]
    everything = {
        row["id"]: row["record"]
        for row in im_walk(stack, f"/api/im/unified-messages/?account_id={account_id}&types=comments")
    }
    assert media and {c["cid"]: [a["type"] for a in everything[c["cid"]]["attachments"]] for c in media} == {
        c["cid"]: [c["media"]] for c in media
    }


def _expected_part(media: dict[str, Any], kind: str) -> dict[str, Any]:
    """The attachment the hub must hold for a simulator media message (its ground truth)."""
    if kind == "video":
        return {
            "type": "video",
            "url": f"https://www.douyin.com/video/{media['item_id']}",
            "thumb_url": media["thumb_url"],
            "item_id": media["item_id"],
        }
    part = {"type": kind, "url": media["url"], "thumb_url": media.get("thumb_url", "")}
    part.update({k: media[k] for k in ("width", "height", "duration_ms") if k in media})
    return part


@pytest.mark.parametrize("variant", ["default", "chat_v2"])
def test_media_messages_reach_the_api_as_attachments_and_receipts_never_do(
    stack: Stack, variant: str
) -> None:
    account_id, uid = _account(stack, variant)
    wait_synced(stack, account_id, uid, timeout=240)
    conversation = stack.sim.control("GET", f"accounts/{uid}/truth")["conversations"][0]["conversation_id"]
    # when a fan sends a sticker, an image, a voice clip and a shared video (the listener's push), and the
    # account answers once the list shows the video's label (the peer's read receipt, type 50001, follows through the same push)
    injected = {
        kind: stack.sim.control(
            "POST", "inject/message", {"uid": uid, "conversation_id": conversation, "media": kind}
        )["server_id"]
        for kind in ("sticker", "image", "voice", "video")
    }
    wait_until(
        lambda: set(injected.values()) <= set(im_ids(stack, account_id)["messages"]),
        timeout=120,
        what="the media messages",
    )

    def preview() -> str:
        rows = im_walk(stack, f"/api/im/conversations/?account_id={account_id}")
        return str(next(c for c in rows if c["conversation_id"] == conversation)["last_message_preview"])

    wait_until(
        lambda: preview() == "[视频]", timeout=60, what="the conversation's preview to be the video's label"
    )
    answer = _reply(
        stack, account_id, {"kind": "message", "conversation_id": conversation}, f"收到 e2e-{variant}"
    )
    assert answer["status"] == "sent", answer
    # then each media message (and each in the history) is in the IM API with empty text and its part as
    # the simulator holds it; no read receipt became a message
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    media = {m["server_id"]: m for m in truth["messages"] if m["media"]}
    assert set(injected.values()) <= set(media)
    wait_until(
        lambda: im_ids(stack, account_id)["messages"] == truth_ids(stack, uid)["messages"],
        timeout=120,
        what="the messages to match the simulator (no receipts)",
    )
    records = {
        row["id"]: row["record"]
        for row in im_walk(stack, f"/api/im/unified-messages/?account_id={account_id}&types=messages")
    }
    for server_id, message in media.items():
        record = records[server_id]
        assert (record["msg_type"], record["text"]) == (message["kind"], ""), record
        got = [{k: v for k, v in part.items() if v not in ("", None)} for part in record["attachments"]]
        want = [
            {
                k: v
                for k, v in _expected_part(message["media"], message["kind"]).items()
                if v not in ("", None)
            }
        ]
        assert got == want, (server_id, record)
    # and the peers' names are the platform's (the captured rows name participants by sec_uid only)
    rows = im_walk(stack, f"/api/im/conversations/?account_id={account_id}")
    assert {c["conversation_id"]: c["peer"]["nickname"] for c in rows} == {
        c["conversation_id"]: c["peer_nickname"] for c in truth["conversations"]
    }
    assert {c["conversation_id"]: c["peer"]["id"] for c in rows} == {
        c["conversation_id"]: c["peer_uid"] for c in truth["conversations"]
    }


def test_an_accepted_reply_whose_answer_names_no_work_is_sent_and_in_the_api(stack: Stack) -> None:
    account_id, uid = _account(stack, "default")
    wait_synced(stack, account_id, uid, timeout=240)
    target = next(c for c in stack.sim.control("GET", f"accounts/{uid}/truth")["comments"] if c["level"] == 1)
    # when an agent replies to a comment and the platform answers as captured (no aweme_id / item_id)
    result = _reply(
        stack,
        account_id,
        {"kind": "comment", "content_id": target["aweme_id"], "comment_id": target["cid"]},
        "谢谢支持 e2e-no-work-id",
    )
    # then the reply is sent with the platform's id, posted once, and the IM API has it in the thread
    posts = [e for e in stack.sim.control("GET", "log")["log"] if e.get("text") == "谢谢支持 e2e-no-work-id"]
    assert (result["status"], result["error_code"]) == ("sent", None), result
    assert [(e["kind"], e["cid"]) for e in posts] == [("comment_reply", result["platform_reply_id"])]
    thread = im_walk(stack, f"/api/im/discussions/?account_id={account_id}&parent_id={target['cid']}")
    mine = next(c for c in thread if c["comment_id"] == result["platform_reply_id"])
    assert (mine["content_id"], mine["is_author"], mine["text"]) == (
        target["aweme_id"],
        True,
        "谢谢支持 e2e-no-work-id",
    )


def test_a_reply_in_the_captured_comment_lists_finds_its_target_and_proves_it(stack: Stack) -> None:
    account_id, uid = _account(stack, "comment_list_v2")
    wait_synced(stack, account_id, uid, timeout=240)
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    target = next(c for c in truth["comments"] if c["level"] == 2)
    # when an agent replies to a reply, which the page names by an encrypted id only
    result = _reply(
        stack,
        account_id,
        {"kind": "comment", "content_id": target["aweme_id"], "comment_id": target["served_id"]},
        "收到 e2e-captured-lists",
    )
    # then it is posted once into that thread and sent, named as the lists name it, held once by the hub
    after = stack.sim.control("GET", f"accounts/{uid}/truth")
    new = next(c for c in after["comments"] if c["text"] == "收到 e2e-captured-lists")
    posts = [e for e in stack.sim.control("GET", "log")["log"] if e.get("text") == "收到 e2e-captured-lists"]
    assert result["status"] == "sent", result
    assert len(posts) == 1 and new["reply_id"] == target["reply_id"]
    assert result["platform_reply_id"] == new["served_id"]
    wait_synced(stack, account_id, uid, timeout=180)
    assert im_ids(stack, account_id) == truth_ids(stack, uid)


def test_a_reply_finds_its_comment_when_the_page_encodes_comment_ids(stack: Stack) -> None:
    account_id, uid = _account(stack, "encoded_cid")
    wait_synced(stack, account_id, uid, timeout=240)
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    target = next(c for c in truth["comments"] if c["level"] == 2)
    # when an agent replies to a reply, whose page node carries only an encoded "@i/" id
    status, created = stack.api(
        "POST",
        "/api/im/replies/",
        {
            "account_id": account_id,
            "target": {"kind": "comment", "content_id": target["aweme_id"], "comment_id": target["cid"]},
            "text": "谢谢 e2e-encoded",
            "idempotency_key": "e2e-encoded",
        },
    )
    assert status == 202, created
    result = wait_until(
        lambda: (r := stack.api("GET", f"/api/im/replies/{created['id']}/")[1])["status"] != "pending" and r,
        timeout=120,
        what="the reply",
    )
    # then it is sent to that comment's thread (found by its API record's text and author)
    assert result["status"] == "sent", result
    after = {c["cid"]: c for c in stack.sim.control("GET", f"accounts/{uid}/truth")["comments"]}
    assert after[result["platform_reply_id"]]["reply_id"] == target["reply_id"]
    log = stack.worker.log_path.read_text()  # type: ignore[union-attr]
    assert f"reply target comment {target['cid']} found by text_author" in log


def test_a_bad_record_is_skipped_and_reported_while_the_rest_of_its_page_syncs(stack: Stack) -> None:
    account_id, uid = _account(stack, "bad_record")
    broken = _broken_cids(stack, uid)
    expected = sorted(set(truth_ids(stack, uid)["comments"]) - broken)
    assert broken
    # when the account is crawled
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "surface_changed" and a,
        timeout=200,
        what="the skipped records to be reported",
    )
    wait_until(
        lambda: im_ids(stack, account_id)["comments"] == expected, timeout=120, what="every readable comment"
    )
    # then every other comment (replies of the broken ones too) reached the hub, and the skip is reported
    assert re.match(
        r"surface changed: \d+ record\(s\) skipped \(comment_list\.comments\); first comment_list\.comments\[\d+\]: "
        r"ValueError: create_time is not a time: '刚刚' \(sample: surface/",
        account["last_error"],
    ), account["last_error"]
    ids = im_ids(stack, account_id)
    assert (ids["contents"], ids["messages"]) == (
        truth_ids(stack, uid)["contents"],
        truth_ids(stack, uid)["messages"],
    )


def _admin_page(stack: Stack, path: str) -> str:
    stack.hub.shell(
        "from django.contrib.auth.models import User\n"
        "u = User.objects.get(username='root'); u.set_password('e2e-pass-123'); u.save()"
    )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{stack.hub.url}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "root", "password": "e2e-pass-123", "next": path}
    ).encode()
    request = urllib.request.Request(
        f"{stack.hub.url}/admin/login/", data=form, headers={"Referer": stack.hub.url}
    )
    return opener.open(request, timeout=10).read().decode()


def test_an_unknown_variant_turns_the_account_surface_changed_while_the_others_keep_syncing(
    stack: Stack,
) -> None:
    account_id, _ = _account(stack, "unknown")
    # when the works page fetches its works from a path no locator knows
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "surface_changed" and a,
        timeout=200,
        what="the unknown variant to be reported",
    )
    # then the account says which locator failed and where the sample is, in the API, admin and /metrics
    assert account["last_error"].startswith(
        "surface changed: works.work_list: the works page loaded but no known works response "
        "(work_list / item_list) came (sample: surface/"
    ), account["last_error"]
    sample_name = account["last_error"].rsplit("(sample: ", 1)[1].rstrip(")")
    sample = json.loads((stack.workdir / "worker-data" / "w1" / sample_name).read_text(encoding="utf-8"))
    assert "/janus/douyin/creator/pc/work/list_next" in sample["sample"]["fetched_paths"]
    assert "msToken" not in json.dumps(sample)
    admin = _admin_page(stack, "/admin/accounts/account/")
    assert 'data-value="surface_changed"' in admin
    metrics = http_json("GET", f"{stack.hub.url}/metrics")[1]
    assert 'imhub_accounts_by_runner_status{status="surface_changed"}' in metrics
    # and a new comment on another account still reaches the hub
    other_id, other_uid = _account(stack, "ms_times")
    comment = stack.sim.control("POST", "inject/comment", {"uid": other_uid, "text": "还在同步 e2e"})
    wait_until(
        lambda: comment["cid"] in im_ids(stack, other_id)["comments"],
        timeout=180,
        what="the other account's comment",
    )
    assert stack.account(account_id)["runner_status"] == "surface_changed"
    assert stack.worker.alive()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("empty_works", "surface changed: works.work_list: the works response says 6 works but lists none"),
        (
            "empty_comments",
            "surface changed: comments.comment_list: the comment panel shows 0 comments and the list says",
        ),
    ],
)
def test_a_list_that_yields_nothing_is_a_surface_change_not_a_silent_zero(
    stack: Stack, variant: str, expected: str
) -> None:
    account_id, _ = _account(stack, variant)
    # when the platform's list comes back empty while it says it holds items
    account = wait_until(
        lambda: (a := stack.account(account_id))["runner_status"] == "surface_changed" and a,
        timeout=240,
        what=f"the {variant} account's drift alarm",
    )
    # then the account reports a surface change naming the list and keeping a sample, never zero items
    assert account["last_error"].startswith(expected), account["last_error"]
    assert "(sample: surface/" in account["last_error"]


@pytest.mark.parametrize("variant", ["qr_alt", "qr_aria", "qr_data_png", "qr_class"])
def test_each_login_qr_variant_logs_in(stack: Stack, variant: str) -> None:
    account_id, uid = _account(stack, "qr")
    # given the login page shows its QR only in this variant's form
    stack.sim.control("POST", "surface", {"surface": variant})
    # when an admin starts a QR login and the phone confirms it
    status, login = stack.api("POST", f"/api/manage/accounts/{account_id}/login/")
    assert status == 201, login
    ready = wait_until(
        lambda: (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["qr_image"] and s,
        timeout=90,
        what="the QR to be reported",
    )
    stack.sim.control("POST", "qr/confirm-newest", {"uid": uid})
    final = wait_until(
        lambda: (s := stack.api("GET", f"/api/manage/login-sessions/{login['id']}/")[1])["is_final"] and s,
        timeout=90,
        what="the login to finish",
    )
    # then the QR was found, screenshotted and the login succeeded
    assert ready["qr_image"].startswith("data:image/png;base64,")
    assert final["status"] == "success", final
    assert f"login QR found by locator variant {variant}" in stack.worker.log_path.read_text()  # type: ignore[union-attr]


def _shanghai_window(minutes_before: int, minutes_after: int) -> str:
    local = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    start, end = local - dt.timedelta(minutes=minutes_before), local + dt.timedelta(minutes=minutes_after)
    return f"{start:%H:%M}-{end:%H:%M}"


def test_the_write_queue_spaces_an_accounts_replies_and_holds_them_through_quiet_hours(stack: Stack) -> None:
    account_id, uid = _account(stack, "works_v2")
    wait_synced(stack, account_id, uid, timeout=240)
    conversations = [
        c["conversation_id"] for c in stack.sim.control("GET", f"accounts/{uid}/truth")["conversations"]
    ]
    manage = f"/api/manage/accounts/{account_id}/"
    try:
        # given the account's writes at least 15 s apart
        status, body = stack.api("PATCH", manage, {"write_gap": 15})
        assert status == 200 and body["write_gap"] == 15, body

        def post(text: str, conversation: str) -> dict[str, Any]:
            status, created = stack.api(
                "POST",
                "/api/im/replies/",
                {
                    "account_id": account_id,
                    "target": {"kind": "message", "conversation_id": conversation},
                    "text": text,
                    "idempotency_key": text,
                },
            )
            assert status == 202, created
            return dict(created)

        def reply(reply_id: str) -> dict[str, Any]:
            return dict(stack.api("GET", f"/api/im/replies/{reply_id}/")[1])

        # when an agent sends two replies at once
        first, second = post("队列一 e2e-queue", conversations[0]), post("队列二 e2e-queue", conversations[1])
        # then the first goes at once, the second waits its turn with its place and send time shown
        assert first["queue"] is None and first["dispatched_at"] is not None
        waiting = reply(second["id"])
        assert waiting["status"] == "pending" and waiting["queue"]["position"] == 1, waiting
        eta = dt.datetime.fromisoformat(waiting["queue"]["eta"])
        # (at least the gap after the first, which is still in the worker's hands)
        assert (eta - dt.datetime.fromisoformat(first["dispatched_at"])).total_seconds() >= 15 - 0.5

        def finished(reply_id: str) -> dict[str, Any]:
            def check() -> dict[str, Any] | None:
                status = reply(reply_id)
                return status if status["status"] != "pending" else None

            return dict(wait_until(check, timeout=150, what=f"reply {reply_id}"))

        done = [finished(first["id"]), finished(second["id"])]
        assert [d["status"] for d in done] == ["sent", "sent"], done
        sends = {
            e["text"]: e["at"]
            for e in stack.sim.control("GET", "log")["log"]
            if e.get("kind") == "message_send"
        }
        # and the platform saw them at least the gap apart
        assert sends["队列二 e2e-queue"] - sends["队列一 e2e-queue"] >= 15 - 0.5

        # when quiet hours cover now, a reply waits for their end and is not posted
        status, body = stack.api("PATCH", manage, {"quiet_hours": _shanghai_window(5, 30)})
        assert status == 200, body
        quiet = post("静默 e2e-queue", conversations[0])
        assert quiet["queue"]["position"] == 1 and quiet["dispatched_at"] is None
        assert dt.datetime.fromisoformat(quiet["queue"]["eta"]) > dt.datetime.now(dt.UTC) + dt.timedelta(
            minutes=25
        )
        time.sleep(4)
        assert reply(quiet["id"])["dispatched_at"] is None
        assert "静默 e2e-queue" not in {e.get("text") for e in stack.sim.control("GET", "log")["log"]}
        # and once they are lifted it goes
        status, body = stack.api("PATCH", manage, {"quiet_hours": ""})
        assert status == 200, body
        sent = finished(quiet["id"])
        assert sent["status"] == "sent", sent
    finally:
        stack.api("PATCH", manage, {"write_gap": None, "quiet_hours": ""})

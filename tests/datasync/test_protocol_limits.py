"""Protocol limits (issue 25 #5): each violation is a master:error with its code, the connection stays,
nothing of the frame is applied; a hypothesis fuzz over frame shapes holds the same for anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasync.models import Entity
from datasync.protocol import ProtocolError, RegisterFrame, dump_frame, parse_frame, times_check
from datasync.protocol.limits import MAX_DEPTH, json_depth_exceeds
from imhub.asgi import application
from tests.datasync.conftest import Held, held_account_create
from tests.datasync.records import comment, sync_frame, sync_text

ROGUE = [
    (
        "deep nesting",
        '{"type": "worker:heartbeat", "id": "d1", "ts": 1, "payload": ' + "[" * 50_000 + "]" * 50_000 + "}",
    ),
    (
        "integer beyond 64 bits",
        '{"type": "worker:data:sync", "id": "i1", "ts": 1764000000000, "payload": {"account_id": ACCOUNT, '
        '"epoch": 1, "seq": ' + str(2**70) + ', "entities": {}}}',
    ),
    (
        "huge heartbeat stats",
        json.dumps(
            {
                "type": "worker:heartbeat",
                "id": "h1",
                "ts": 1764000000000,
                "payload": {"accounts": {str(i): {"last_error": "x" * 900} for i in range(1000)}},
            }
        ),
    ),
]


def _sync_with(record: dict[str, Any], *, account_id: int, frame_id: str = "s1") -> str:
    return sync_text(
        account_id=account_id, epoch=1, seq=1, entities={"comments": [record]}, frame_id=frame_id
    )


def test_deep_nesting_is_a_protocol_error_not_a_crash() -> None:
    text = ROGUE[0][1]
    assert json_depth_exceeds(text)
    with pytest.raises(ProtocolError) as refused:
        parse_frame(text)
    assert refused.value.code == "invalid_frame"
    assert str(MAX_DEPTH) in refused.value.message


def test_long_strings_and_a_huge_id_are_refused_and_the_echoed_id_is_cut() -> None:
    long_text = json.loads(_sync_with(comment("k1"), account_id=1))
    long_text["payload"]["entities"]["comments"][0]["text"] = "长" * 20_001
    with pytest.raises(ProtocolError) as refused:
        parse_frame(json.dumps(long_text, ensure_ascii=False))
    assert refused.value.code == "invalid_frame" and "text" in refused.value.message
    huge_id = json.loads(_sync_with(comment("k1"), account_id=1))
    huge_id["id"] = "x" * 10_000
    with pytest.raises(ProtocolError) as refused:
        parse_frame(json.dumps(huge_id))
    assert refused.value.ref is not None and len(refused.value.ref) <= 100


def _connect(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, "/ws/worker/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )


async def _registered(held: Held) -> WebsocketCommunicator:
    comm = _connect(held.token)
    assert (await comm.connect(timeout=10))[0]
    await comm.send_to(
        text_data=dump_frame(RegisterFrame.build(worker_id=held.worker.worker_id, capabilities=["douyin"]))
    )
    assert json.loads(await comm.receive_from(timeout=10))["type"] == "master:register:ack"
    return comm


@database_sync_to_async
def _entities(account_id: int) -> int:
    return Entity.objects.filter(account_id=account_id).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("what", "text"), ROGUE, ids=[r[0] for r in ROGUE])
async def test_a_rogue_frame_gets_an_error_frame_and_the_connection_stays(
    held: Held, what: str, text: str
) -> None:
    comm = await _registered(held)
    # when a rogue frame comes
    await comm.send_to(text_data=text.replace("ACCOUNT", str(held.account.id)))
    reply = json.loads(await comm.receive_from(timeout=20))
    # then it is answered with an error frame naming the problem, nothing is applied
    assert reply["type"] == "master:error", what
    assert reply["payload"]["code"] == "invalid_frame"
    assert await _entities(held.account.id) == 0
    # and the same connection still applies a good frame
    await comm.send_to(text_data=_sync_with(comment("k1"), account_id=held.account.id, frame_id="good"))
    ack = json.loads(await comm.receive_from(timeout=20))
    assert ack["type"] == "worker:data:sync:ack"
    assert await _entities(held.account.id) == 1
    await comm.disconnect()


# ---- fuzz: frame shapes with hostile values ---------------------------------------------------------

HOSTILE_SCALARS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.integers(min_value=20_001, max_value=20_003).map(lambda n: "长" * n),
    st.booleans(),
    st.none(),
)


def _nested(depth: int) -> str:
    return f"__NEST{depth}__"  # put into the JSON text after dumping (json.dumps would recurse)


@st.composite
def hostile_frames(draw: st.DrawFn, account_id: int = 1) -> str:
    """A valid sync frame with one field of one record (or of the envelope) replaced by a hostile value."""
    base = json.loads(_sync_with(comment("k1"), account_id=account_id, frame_id="fz"))
    record = base["payload"]["entities"]["comments"][0]
    target = draw(st.sampled_from(["record", "payload", "envelope", "author"]))
    holder = {"record": record, "payload": base["payload"], "envelope": base, "author": record["author"]}[
        target
    ]
    key = draw(st.sampled_from(sorted(holder)))
    value = draw(st.one_of(HOSTILE_SCALARS, st.integers(min_value=30, max_value=3000).map(_nested)))
    holder[key] = value
    text = json.dumps(base, ensure_ascii=False)
    if isinstance(value, str) and value.startswith("__NEST"):
        depth = int(value[6:-2])
        text = text.replace(f'"{value}"', "[" * depth + "1" + "]" * depth)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_frames())
def test_fuzz_parse_frame_returns_a_frame_or_a_protocol_error(text: str) -> None:
    # any input: a parsed frame or a ProtocolError with a code; never another exception
    try:
        frame = parse_frame(text)
    except ProtocolError as exc:
        assert exc.code in {
            "invalid_frame",
            "bad_json",
            "unknown_type",
            "frame_too_large",
            "implausible_time",
        }
        return
    assert frame.type == "worker:data:sync"  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
async def test_fuzz_over_a_live_connection_never_drops_it_nor_applies_part(clean_runtime: Any) -> None:
    # given a registered worker; each hostile frame gets an answer (ack or error), the connection stays,
    # and a refused frame changes nothing
    held = await database_sync_to_async(held_account_create)()
    comm = await _registered(held)
    examples: list[str] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile_frames(account_id=held.account.id))
    def collect(text: str) -> None:
        examples.append(text)

    collect()
    seq = 0
    for text in examples:
        before = await _entities(held.account.id)
        await comm.send_to(text_data=text)
        reply = json.loads(await comm.receive_from(timeout=20))
        while reply["type"] == "master:resync":  # the hub may ask for a full resend: not an answer
            reply = json.loads(await comm.receive_from(timeout=20))
        if reply["type"] == "worker:data:sync:ack":
            seq = max(seq, reply["payload"]["seq"])
        else:
            assert reply["type"] == "master:error", reply
            assert await _entities(held.account.id) == before
    # and the connection still works at the end
    frame = sync_frame(
        account_id=held.account.id, epoch=1, seq=seq + 1, entities={"comments": [comment("final")]}
    )
    await comm.send_to(text_data=dump_frame(frame))
    reply = json.loads(await comm.receive_from(timeout=20))
    while reply["type"] == "master:resync":
        reply = json.loads(await comm.receive_from(timeout=20))
    assert reply["type"] == "worker:data:sync:ack"
    await comm.disconnect()


@pytest.mark.parametrize(
    ("what", "created_at"),
    [
        ("year 2100", 4_102_444_800_000),
        ("microseconds sent as milliseconds", 1_764_000_000_000_000),
        ("zero", 0),
        ("negative", -1000),
        ("seconds sent as milliseconds (1970)", 1_764_000_000),
    ],
)
def test_implausible_times_are_refused_with_their_own_code(what: str, created_at: int) -> None:
    frame = json.loads(_sync_with(comment("k1"), account_id=1))
    frame["payload"]["entities"]["comments"][0]["created_at"] = created_at
    parsed = parse_frame(json.dumps(frame))  # well-formed: the hub's time check refuses it
    with pytest.raises(ProtocolError) as refused:
        times_check(parsed)
    assert refused.value.code == "implausible_time", what
    assert "created_at" in refused.value.message


@pytest.mark.django_db(transaction=True)
async def test_a_future_dated_item_never_reaches_the_store(held: Held) -> None:
    comm = await _registered(held)
    frame = json.loads(_sync_with(comment("future"), account_id=held.account.id, frame_id="fut"))
    frame["payload"]["entities"]["comments"][0]["created_at"] = 4_102_444_800_000
    await comm.send_to(text_data=json.dumps(frame))
    reply = json.loads(await comm.receive_from(timeout=20))
    assert (reply["type"], reply["payload"]["code"], reply["payload"]["ref"]) == (
        "master:error",
        "implausible_time",
        "fut",
    )
    assert await _entities(held.account.id) == 0
    await comm.disconnect()


# ---- URL schemes (issue 25 #6): only http(s) URLs are kept; others are dropped, the frame applies ----


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://p3.douyinpic.com/a.jpg", "https://p3.douyinpic.com/a.jpg"),
        ("HTTP://p3.douyinpic.com/a.jpg", "HTTP://p3.douyinpic.com/a.jpg"),
        ("//p3.douyinpic.com/a.jpg", "https://p3.douyinpic.com/a.jpg"),
        ("javascript:alert(1)", ""),
        ("JavaScript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("vbscript:x", ""),
        ("https://", ""),
        ("", ""),
    ],
)
def test_only_http_urls_are_kept_in_records_and_profiles(url: str, kept: str) -> None:
    from datasync.protocol.records import Attachment, Person, Profile

    assert Person.model_validate({"id": "u", "avatar_url": url}, strict=True).avatar_url == kept
    assert Attachment.model_validate({"type": "image", "url": url, "thumb_url": url}, strict=True).url == kept
    assert Profile.model_validate({"avatar_url": url}, strict=True).avatar_url == kept


def test_a_login_qr_image_is_an_image_data_url_or_http() -> None:
    from datasync.protocol.frames import LoginStatusPayload

    def qr(value: str) -> str | None:
        return LoginStatusPayload.model_validate(
            {"session_id": "s", "account_id": 1, "status": "qrcode_ready", "qr_image": value}, strict=True
        ).qr_image

    assert qr("data:image/png;base64,iVBORw0KGgo=") == "data:image/png;base64,iVBORw0KGgo="
    assert qr("https://p3.douyinpic.com/qr.png") == "https://p3.douyinpic.com/qr.png"
    assert qr("javascript:alert(1)") == ""
    assert qr("data:text/html;base64,PHNjcmlwdD4=") == ""

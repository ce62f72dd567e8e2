"""Protocol round trips (one fixture file per frame type) and rejections with stable codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasync.protocol import (
    FRAME_TYPES,
    DataSyncFrame,
    ErrorCode,
    HeartbeatFrame,
    ProtocolError,
    dump_frame,
    parse_frame,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "protocol"


def _fixture(frame_type: str) -> str:
    return (FIXTURES / f"{frame_type.replace(':', '_')}.json").read_text()


def test_every_frame_type_has_a_fixture() -> None:
    names = sorted(p.stem for p in FIXTURES.glob("*.json"))
    assert names == sorted(t.replace(":", "_") for t in FRAME_TYPES)


@pytest.mark.parametrize("frame_type", sorted(FRAME_TYPES))
def test_fixture_round_trips(frame_type: str) -> None:
    # given the captured example of this frame type
    raw = _fixture(frame_type)
    # when it is parsed and dumped again
    frame = parse_frame(raw)
    again = parse_frame(dump_frame(frame))
    # then the type matches and nothing is lost or added
    assert type(frame) is FRAME_TYPES[frame_type]
    assert again == frame
    assert json.loads(dump_frame(frame)) == json.loads(raw)


def test_build_sets_id_ts_and_type() -> None:
    frame = HeartbeatFrame.build(active_accounts=2)
    assert frame.type == "worker:heartbeat"
    assert len(frame.id) == 32
    assert frame.ts > 1_700_000_000_000
    assert frame.payload.active_accounts == 2


def test_sync_entities_are_typed() -> None:
    frame = parse_frame(_fixture("worker:data:sync"))
    assert isinstance(frame, DataSyncFrame)
    assert frame.payload.entities.count() == 7
    assert frame.payload.deleted.comments == ["7301234567890000000"]
    assert frame.payload.entities.comments[1].reply_to is not None
    assert frame.payload.entities.comments[1].reply_to.nickname == "小鱼儿🐟"


def _mutated(frame_type: str, mutate) -> str:  # type: ignore[no-untyped-def]
    data = json.loads(_fixture(frame_type))
    mutate(data)
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize(
    ("raw", "code", "ref"),
    [
        ("{not json", ErrorCode.BAD_JSON, None),
        ("[1, 2]", ErrorCode.INVALID_FRAME, None),
        ('{"type": "worker:explode", "id": "f1", "ts": 1, "payload": {}}', ErrorCode.UNKNOWN_TYPE, "f1"),
        ('{"id": "f2", "ts": 1, "payload": {}}', ErrorCode.UNKNOWN_TYPE, "f2"),
        (
            _mutated("worker:data:sync", lambda d: d["payload"].update(seq="7")),
            ErrorCode.INVALID_FRAME,
            "example-worker-data-sync",
        ),
        (
            _mutated("worker:data:sync", lambda d: d["payload"]["entities"]["comments"][0].pop("created_at")),
            ErrorCode.INVALID_FRAME,
            "example-worker-data-sync",
        ),
        (
            _mutated("worker:heartbeat", lambda d: d["payload"].update(surprise=1)),
            ErrorCode.INVALID_FRAME,
            "example-worker-heartbeat",
        ),
        (
            _mutated(
                "worker:data:sync", lambda d: d["payload"]["entities"]["messages"][0].update(direction="up")
            ),
            ErrorCode.INVALID_FRAME,
            "example-worker-data-sync",
        ),
        (
            _mutated("worker:data:sync", lambda d: d.pop("ts")),
            ErrorCode.INVALID_FRAME,
            "example-worker-data-sync",
        ),
    ],
)
def test_bad_frames_are_rejected_with_stable_codes(raw: str, code: str, ref: str | None) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw)
    assert info.value.code == code
    assert info.value.ref == ref


def test_oversized_frame_is_rejected_before_parsing() -> None:
    raw = _fixture("worker:data:sync")
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw, max_bytes=100)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    assert type(parse_frame(raw, max_bytes=len(raw.encode()))).TYPE == "worker:data:sync"


def test_rejection_message_names_the_field() -> None:
    raw = _mutated("worker:data:sync", lambda d: d["payload"]["entities"]["comments"][0].pop("created_at"))
    with pytest.raises(ProtocolError) as info:
        parse_frame(raw)
    assert "payload.entities.comments.0.created_at" in info.value.message


def test_a_comment_keeps_the_reply_it_answers_and_surface_changed_is_a_runner_status() -> None:
    from datasync.protocol import AccountStatusFrame, Comment

    # given a third-level reply and a runner that saw the platform's surface change
    reply = Comment.model_validate(
        {
            "comment_id": "r2",
            "content_id": "w1",
            "parent_id": "c1",
            "author": {"id": "u2"},
            "created_at": 1,
            "reply_to_reply_id": "r1",
        }
    )
    status = parse_frame(
        dump_frame(AccountStatusFrame.build(account_id=1, epoch=1, runner_status="surface_changed"))
    )

    # then both survive the wire, and the field stays optional
    assert (
        parse_frame(
            dump_frame(DataSyncFrame.build(account_id=1, epoch=1, seq=1, entities={"comments": [reply]}))
        )
        .payload.entities.comments[0]
        .reply_to_reply_id
        == "r1"
    )  # type: ignore[attr-defined]
    bare = Comment.model_validate(
        {"comment_id": "c1", "content_id": "w1", "author": {"id": "u"}, "created_at": 1}
    )
    assert bare.reply_to_reply_id is None
    assert status.payload.runner_status == "surface_changed"  # type: ignore[attr-defined]


def _big_sync(records: list[dict[str, object]], **entities: object) -> dict[str, object]:
    frame = json.loads(
        dump_frame(DataSyncFrame.build(account_id=7, epoch=1, seq=2, entities={"comments": records}))
    )
    frame["payload"]["entities"].update(entities)
    return frame


def _records(n: int) -> list[dict[str, object]]:
    return [
        {
            "comment_id": f"k{i}",
            "content_id": "c1",
            "author": {"id": "u1"},
            "text": "长" * 100,
            "created_at": i,
        }
        for i in range(n)
    ]


def test_a_big_sync_frame_parses_in_chunks_to_the_same_frame_as_one_piece() -> None:
    # given a sync frame well above the chunking threshold, with contents and messages too
    from datasync.protocol import codec

    frame = _big_sync(
        _records(300),
        contents=[{"content_id": "c1", "published_at": 5}],
        messages=[{"message_id": "m1", "conversation_id": "v1", "direction": "in", "created_at": 6}],
    )
    text = json.dumps(frame, ensure_ascii=False)
    assert len(text.encode()) > codec._CHUNKED_ABOVE_BYTES

    # when it is parsed
    parsed = parse_frame(text)

    # then it equals the one-piece strict validation, records in order
    assert parsed == codec._FRAME_ADAPTER.validate_json(text, strict=True)
    assert [c.comment_id for c in parsed.payload.entities.comments] == [f"k{i}" for i in range(300)]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda f: f["payload"]["entities"]["comments"][257].update(likes="3"),
            "payload.entities.comments.257.likes: Input should be a valid integer",
        ),
        (
            lambda f: f["payload"]["entities"]["comments"][41]["author"].update(extra=1),
            "payload.entities.comments.41.author.extra: Extra inputs are not permitted",
        ),
        (lambda f: f["payload"].update(seq=0), "payload.seq: Input should be greater than or equal to 1"),
        (
            lambda f: f["payload"]["entities"].update(gifts=[]),
            "payload.entities.gifts: Extra inputs are not permitted",
        ),
        (
            lambda f: f["payload"]["entities"].update(messages={"m1": 1}),
            "payload.entities.messages: Input should be a valid list",
        ),
    ],
)
def test_a_big_sync_frame_is_refused_with_the_same_locations_as_a_small_one(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    # given a big sync frame with one problem
    frame = _big_sync(_records(300))
    frame["id"] = "big-1"
    mutate(frame)

    # when it is parsed, then it is refused as invalid_frame, naming the field at its real index
    with pytest.raises(ProtocolError) as refused:
        parse_frame(json.dumps(frame, ensure_ascii=False))
    assert (refused.value.code, refused.value.ref) == (ErrorCode.INVALID_FRAME, "big-1")
    assert refused.value.message.startswith(message)


def test_a_big_frame_that_is_not_json_is_bad_json() -> None:
    text = json.dumps(_big_sync(_records(300)), ensure_ascii=False)[:-1]
    with pytest.raises(ProtocolError) as refused:
        parse_frame(text)
    assert refused.value.code == ErrorCode.BAD_JSON

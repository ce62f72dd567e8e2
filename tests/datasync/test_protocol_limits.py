"""Protocol limits (issue 25 #5): every oversized or over-deep frame is refused with its code, whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasync.protocol import ErrorCode, ProtocolError, parse_frame
from datasync.protocol.codec import error_frame
from datasync.protocol.limits import (
    INT64_MAX,
    MAX_DEPTH,
    MAX_ECHOED_ID_CHARS,
    MAX_HEARTBEAT_STATS_BYTES,
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    nesting_depth,
)
from tests.datasync.records import comment


def _sync(entities: dict[str, Any], *, seq: int = 1, frame_id: str = "f1") -> str:
    payload = {"account_id": 1, "epoch": 1, "seq": seq, "entities": entities, "deleted": {}}
    return json.dumps({"type": "worker:data:sync", "id": frame_id, "ts": 1, "payload": payload})


def _refused(raw: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_frame(raw)
    return caught.value


def test_deep_nesting_is_refused_before_any_decoder_recurses() -> None:
    # given the attack frame: 50,000 nested arrays (~100 KB)
    raw = "[" * 50_000 + "]" * 50_000
    # then it is refused as too_deep (no RecursionError), and so is a deep frame inside a valid envelope
    assert _refused(raw).code == ErrorCode.TOO_DEEP
    deep = json.dumps({"type": "worker:heartbeat", "id": "h", "ts": 1, "payload": {}})
    deep = deep[:-2] + ', "accounts": {"1": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}}}"
    assert _refused(deep).code == ErrorCode.TOO_DEEP


def test_nesting_depth_skips_brackets_inside_strings() -> None:
    text = json.dumps({"a": "[[[[{{{{" * 100, "b": [[1]]})
    assert nesting_depth(text) == 3
    assert parse_frame(_sync({"comments": [comment("k1", text="[" * 5000)]})).payload.entities.comments


@pytest.mark.parametrize(
    ("where", "frame"),
    [
        ("seq", _sync({}, seq=2**70)),
        ("likes", _sync({"comments": [comment("k1", likes=INT64_MAX + 1)]})),
        ("created_at", _sync({"comments": [comment("k1", created_at=-(2**64))]})),
        ("text", _sync({"comments": [comment("k1", text="x" * (MAX_TEXT_CHARS + 1))]})),
        ("comment_id", _sync({"comments": [comment("k" * (MAX_ID_CHARS + 1))]})),
        ("ip_label", _sync({"comments": [comment("k1", ip_label="n" * (MAX_NAME_CHARS + 1))]})),
        (
            "avatar_url",
            _sync(
                {
                    "comments": [
                        comment("k1", author={"id": "u", "avatar_url": "https://a/" + "p" * MAX_URL_CHARS})
                    ]
                }
            ),
        ),
    ],
)
def test_values_over_their_limit_are_invalid_frames(where: str, frame: str) -> None:
    error = _refused(frame)
    assert error.code == ErrorCode.INVALID_FRAME
    assert where in error.message


def test_heartbeat_stats_over_the_limit_are_refused() -> None:
    stats = {str(i): {"note": "s" * 1000} for i in range(871)}  # the ~871 KB heartbeat of the report
    raw = json.dumps({"type": "worker:heartbeat", "id": "h", "ts": 1, "payload": {"accounts": stats}})
    assert len(raw) > MAX_HEARTBEAT_STATS_BYTES
    error = _refused(raw)
    assert (error.code, error.ref) == (ErrorCode.INVALID_FRAME, "h")
    assert "accounts" in error.message


def test_a_long_frame_id_is_echoed_cut() -> None:
    long_id = "i" * 10_000
    error = _refused(_sync({}, seq=0, frame_id=long_id))
    assert error.ref is not None and len(error.ref) == MAX_ECHOED_ID_CHARS
    answer = error_frame(error.code, error.message, ref=long_id)
    assert len(answer.payload.ref) == MAX_ECHOED_ID_CHARS


# ---- fuzz: any JSON shape is either a valid frame or a ProtocolError, never another exception --------

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_json = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
_record_keys = st.sampled_from([*comment("k1"), "message_id", "conversation_id", "peer", "accounts"])


@st.composite
def _frames(draw: st.DrawFn) -> str:
    """A frame envelope of a known type whose payload is a mutated valid shape or arbitrary JSON."""
    frame_type = draw(
        st.sampled_from(["worker:data:sync", "worker:heartbeat", "worker:register", "worker:x"])
    )
    record = comment("k1")
    for key in draw(st.lists(_record_keys, max_size=3)):
        record[key] = draw(_json)
    payload: Any = draw(
        st.one_of(
            st.just({"account_id": 1, "epoch": 1, "seq": 1, "entities": {"comments": [record]}}),
            st.builds(lambda accounts: {"accounts": accounts}, _json),
            _json,
        )
    )
    frame_id = draw(st.one_of(st.text(max_size=200), _json))
    raw = json.dumps({"type": frame_type, "id": frame_id, "ts": draw(_json), "payload": payload})
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
def test_fuzzed_frames_parse_or_raise_a_protocol_error(raw: str) -> None:
    try:
        parse_frame(raw)
    except ProtocolError as error:
        assert error.code in {ErrorCode.BAD_JSON, ErrorCode.UNKNOWN_TYPE, ErrorCode.INVALID_FRAME}
        assert error.ref is None or len(error.ref) <= MAX_ECHOED_ID_CHARS

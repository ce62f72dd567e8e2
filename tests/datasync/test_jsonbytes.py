"""json_bytes writes what DRF's JSONRenderer writes (line separators escaped), with pre-rendered values."""

from __future__ import annotations

import json

import pytest
from rest_framework.renderers import JSONRenderer

from datasync.jsonbytes import RawJSON, json_bytes


@pytest.mark.parametrize(
    "value",
    [
        {"text": "a\u2028b\u2029c", "n": 1},
        {"text": "“引号”…— no separator", "list": [1, 2.5, None, True]},
        {"text": "…\u2028", "nested": {"x": "\u2029"}},
        {"plain": "ascii only"},
        {"big": 2**70, "text": "\u2028"},  # beyond orjson: the json module path
    ],
)
def test_the_same_bytes_as_drfs_renderer(value: object) -> None:
    assert json_bytes(value) == JSONRenderer().render(value)


def test_raw_values_are_embedded_as_rendered_on_both_paths() -> None:
    row = RawJSON.of({"id": "1:dm:v1", "text": "行\u2028"})
    assert row.data == '{"id":"1:dm:v1","text":"行\\u2028"}'.encode()
    page = {"results": [row, row], "next": None}
    assert json.loads(json_bytes(page)) == {"results": [row.value(), row.value()], "next": None}
    # the json module's path (an int past 64 bits elsewhere in the body) writes the same value
    assert json.loads(json_bytes({**page, "big": 2**70}))["results"] == [row.value(), row.value()]
    with pytest.raises(TypeError):
        json_bytes({"x": object()})

"""The demo's terminal status table: columns line up beside Chinese names (display width, not length)."""

from __future__ import annotations

import pytest

from imhub.demo import cell, display_width


@pytest.mark.parametrize("name", ["abc", "创作者一号", "a中b", "抖音达人小王同学真棒呀", ""])
def test_a_name_cell_takes_the_same_columns_whatever_its_script(name: str) -> None:
    assert display_width(cell(name, 14)) == 14


def test_a_long_name_is_cut_on_a_whole_character_and_keeps_a_gap() -> None:
    assert cell("抖音达人小王同学真棒", 14) == "抖音达人小王  "
    assert cell("abcdefghijklmnopq", 14) == "abcdefghijklm "
    assert display_width("抖音ab") == 6

"""The write policy's schedule: gap, rolling hourly and daily caps, quiet hours, risk hold (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.writepolicy import WritePolicy, quiet_hours_parse, schedule

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    """`"2026-12-05 10:00:00"` in Asia/Shanghai -> epoch s."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH).timestamp()


def test_replies_follow_each_other_by_the_gap_after_the_last_write() -> None:
    policy = WritePolicy(gap=10, hourly=100, daily=1000)
    now = at("2026-12-05 10:00:00")
    # the last write was 4 s ago: the first waits 6 s more, each next one 10 s after it
    assert schedule(policy=policy, history=[now - 4], queued=3, now=now) == [now + 6, now + 16, now + 26]
    # nothing written lately: the first goes now
    assert schedule(policy=policy, history=[now - 3600], queued=1, now=now) == [now]


def test_the_hourly_cap_waits_until_the_oldest_write_leaves_the_rolling_hour() -> None:
    policy = WritePolicy(gap=0, hourly=3, daily=1000)
    now = at("2026-12-05 10:00:00")
    history = [now - 3000, now - 2000, now - 1000]  # three writes in the last hour
    etas = schedule(policy=policy, history=history, queued=2, now=now)
    assert etas == [now - 3000 + 3600, now - 2000 + 3600]


def test_the_daily_cap_counts_a_rolling_24_hours() -> None:
    policy = WritePolicy(gap=0, hourly=100, daily=2)
    now = at("2026-12-05 10:00:00")
    etas = schedule(policy=policy, history=[now - 80000, now - 10], queued=2, now=now)
    assert etas == [now - 80000 + 86400, now - 10 + 86400]


@pytest.mark.parametrize(
    ("quiet", "now", "expected"),
    [
        ("23:00-08:00", "2026-12-05 23:30:00", "2026-12-06 08:00:00"),  # wraps past midnight
        ("23:00-08:00", "2026-12-06 02:00:00", "2026-12-06 08:00:00"),
        ("23:00-08:00", "2026-12-06 08:00:00", "2026-12-06 08:00:00"),  # the end is outside
        ("12:00-13:30", "2026-12-05 12:10:00", "2026-12-05 13:30:00"),
        ("12:00-13:30", "2026-12-05 11:59:00", "2026-12-05 11:59:00"),
    ],
)
def test_quiet_hours_hold_a_reply_until_they_end(quiet: str, now: str, expected: str) -> None:
    policy = WritePolicy(gap=0, hourly=100, daily=1000, quiet=quiet_hours_parse(quiet))
    assert schedule(policy=policy, history=[], queued=1, now=at(now)) == [at(expected)]


def test_a_risk_hold_and_the_gap_and_quiet_hours_combine() -> None:
    policy = WritePolicy(gap=30, hourly=100, daily=1000, quiet=quiet_hours_parse("22:00-22:10"))
    now = at("2026-12-05 21:50:00")
    # the hold ends at 22:05, inside the quiet hours: the first goes at 22:10, the second 30 s later
    etas = schedule(policy=policy, history=[], queued=2, now=now, hold_until=at("2026-12-05 22:05:00"))
    assert etas == [at("2026-12-05 22:10:00"), at("2026-12-05 22:10:30")]


@pytest.mark.parametrize("text", ["8-9", "25:00-01:00", "08:00-08:00", "08:00", "08:60-09:00", "a-b"])
def test_quiet_hours_in_another_form_are_refused_with_the_form_named(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        quiet_hours_parse(text)
    assert quiet_hours_parse("") is None and quiet_hours_parse(" 23:00-07:30 ") == (23 * 60, 7 * 60 + 30)


def test_the_gap_counts_from_the_end_of_the_previous_write() -> None:
    policy = WritePolicy(gap=10, hourly=100, daily=1000)
    now = at("2026-12-05 10:00:00")
    # handed to the worker 20 s ago, done 2 s ago: the next goes 8 s from now, not at once
    assert schedule(policy=policy, history=[now - 20], queued=1, now=now, last_done=now - 2) == [now + 8]
    # still in the worker's hands (done "now" at the earliest): at least the gap from now
    assert schedule(policy=policy, history=[now - 20], queued=1, now=now, last_done=now) == [now + 10]

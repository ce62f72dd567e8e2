"""An account's write policy and the schedule of its queued replies (pure; no database).

Every reply of an account goes through one queue, one write at a time: at least `gap` seconds after
the previous write was done, at
most `hourly` writes in any rolling hour and `daily` in any rolling 24 hours, none inside the quiet
hours (`HH:MM-HH:MM` in IMHUB_TIME_ZONE, may wrap past midnight), none before a risk hold ends.
`schedule` gives each queued reply, in order, the earliest time these rules allow.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

HOUR, DAY = 3600.0, 86400.0


def quiet_hours_parse(text: str) -> tuple[int, int] | None:
    """`"22:30-08:00"` -> (start, end) in minutes of the day; "" -> None; ValueError naming the form."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        start_text, end_text = text.split("-")
        start, end = (_minutes(part) for part in (start_text, end_text))
    except ValueError:
        raise ValueError(f"quiet hours must be HH:MM-HH:MM (e.g. 23:00-08:00), not {text!r}") from None
    if start == end:
        raise ValueError("quiet hours must start and end at different times")
    return start, end


def _minutes(part: str) -> int:
    hours, minutes = part.strip().split(":")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60 and len(minutes) == 2):
        raise ValueError(part)
    return value


@dataclass(frozen=True)
class WritePolicy:
    gap: float
    hourly: int
    daily: int
    quiet: tuple[int, int] | None = None
    zone: str = "Asia/Shanghai"

    @classmethod
    def of(cls, account: Any) -> WritePolicy:
        """The account's own settings, each empty one taking the IMHUB_WRITE_* default."""

        def pick(value: Any, default: Any) -> Any:
            return default if value in (None, "") else value

        return cls(
            gap=max(0.0, float(pick(account.write_gap, settings.IMHUB_WRITE_GAP))),
            hourly=max(1, int(pick(account.write_hourly_cap, settings.IMHUB_WRITE_HOURLY_CAP))),
            daily=max(1, int(pick(account.write_daily_cap, settings.IMHUB_WRITE_DAILY_CAP))),
            quiet=quiet_hours_parse(pick(account.quiet_hours, settings.IMHUB_QUIET_HOURS)),
            zone=settings.IMHUB_TIME_ZONE,
        )

    def quiet_end(self, at: float) -> float:
        """`at` if it is outside the quiet hours, else the moment they end."""
        if self.quiet is None:
            return at
        start, end = self.quiet
        zone = ZoneInfo(self.zone)
        local = dt.datetime.fromtimestamp(at, zone)
        minute = local.hour * 60 + local.minute
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if not inside:
            return at
        ends = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
        if ends <= local:
            ends += dt.timedelta(days=1)
        return ends.timestamp()


def schedule(
    *,
    policy: WritePolicy,
    history: list[float],
    queued: int,
    now: float,
    hold_until: float | None = None,
    last_done: float | None = None,
) -> list[float]:
    """The send time (epoch s) of each of `queued` replies in order, given the account's earlier writes
    (`history`: when each was handed to the worker, epoch s; the last 24 hours are enough), when the
    latest of them was done (`last_done`; `now` while one is still in hand: the gap counts from the
    end of a write, so the platform sees them at least the gap apart) and a risk hold ending at
    `hold_until`."""
    times = sorted(history)
    etas: list[float] = []
    at = max(now, hold_until or 0.0)
    marks = [t for t in (times[-1] if times else None, last_done) if t is not None]
    previous = max(marks) if marks else None
    for _ in range(queued):
        if previous is not None:
            at = max(at, previous + policy.gap)
        while True:
            before = at
            at = policy.quiet_end(at)
            for span, cap in ((HOUR, policy.hourly), (DAY, policy.daily)):
                inside = times[bisect_right(times, at - span) :]  # writes in (at - span, at]
                if len(inside) >= cap:
                    at = inside[len(inside) - cap] + span  # when enough of them have left the window
            if at == before:
                break
        etas.append(at)
        times.append(at)
        previous = at
    return etas

"""What every Douyin parser shares: unit conversion, API body checks, per-record tolerance.

Times in seconds or milliseconds (told apart by magnitude), numeric strings, ISO 8601 or the display
text `发布于2025年10月27日 10:42` (Asia/Shanghai) become epoch ms; string counters become int; `has_more`
0/1/bool becomes bool. A body of an unknown shape raises `SurfaceChanged` naming the field; one record
that does not parse is skipped and noted in `Parsed.skipped`, never the rest of its page. Risk answers
(empty bodies, risk codes and HTTP statuses) raise `RiskDetected`; status 8 raises `LoginUncertain`
(logged out or throttled: the adapter asks the login signals).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

from crawler.errors import CrawlError, LoginUncertain, RiskDetected, SurfaceChanged
from crawler.platforms import DriftNote
from crawler.platforms.douyin import locators

MS_THRESHOLD = 100_000_000_000  # epoch values above this are milliseconds (year 1973 in ms, 5138 in s)
SHANGHAI = timezone(timedelta(hours=8))  # the creator center shows times in China's time zone
DISPLAY_TIME_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})")
T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    """One page of records, whether more pages follow, and the records skipped (with why)."""

    records: list[T]
    has_more: bool = False
    skipped: list[DriftNote] = field(default_factory=list)


def as_int(value: Any, default: int = 0) -> int:
    """Numbers that the platform sends as numbers or strings ("12", "1.0"); None/'' -> default."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value)))
    except ValueError:
        return default


def display_time_ms(text: str) -> int | None:
    """A time as the creator center writes it ("发布于2025年10月27日 10:42", Asia/Shanghai) -> epoch ms."""
    match = DISPLAY_TIME_RE.search(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(part) for part in match.groups())
    return int(datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp() * 1000)


def epoch_ms(value: Any, *, field: str = "time") -> int:
    """A time as epoch ms from seconds or ms (by magnitude, number or numeric string), ISO 8601 or the
    display text of the item list; ValueError naming `field` for anything else."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError(f"{field} is not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            try:
                return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                shown = display_time_ms(text)
                if shown is None:
                    raise ValueError(f"{field} is not a time: {value!r}") from None
                return shown
    if number <= 0:
        raise ValueError(f"{field} is not a time: {value!r}")
    return int(number) if number >= MS_THRESHOLD else int(number * 1000)


def seconds_to_ms(value: Any) -> int:
    return as_int(value) * 1000


def iso_to_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def has_more(value: Any) -> bool:
    return bool(as_int(value))


def first_url(container: Any, *keys: str) -> str:
    """The first URL of the first non-empty list among `keys` (default `url_list`) in `container`."""
    if isinstance(container, dict):
        for key in keys or ("url_list",):
            urls = container.get(key)
            if isinstance(urls, list) and urls:
                return str(urls[0])
    return ""


def size_or_none(value: Any) -> int | None:
    """A width, height or duration: a positive number, else None (absent, 0, unreadable)."""
    number = as_int(value, -1)
    return number if number > 0 else None


def http_status_check(*, status: int, what: str) -> None:
    """RiskDetected for the HTTP statuses risk control answers with (403, 429, 461, 471)."""
    if status in locators.RISK_HTTP_STATUSES:
        raise RiskDetected(f"{what}: HTTP {status} (risk control)")


def api_body_check(*, body: Any, what: str, status: int = 200) -> dict[str, Any]:
    """The body of a platform API answer, or the error it signals: a risk HTTP status, an empty body or
    a risk code is RiskDetected; status 8 is LoginUncertain (logged out, or throttled: login signals
    decide); any other non-zero code a CrawlError with the platform's message."""
    http_status_check(status=status, what=what)
    if not isinstance(body, dict) or not body:
        raise RiskDetected(f"{what}: empty body (risk control)")
    code = as_int(body.get("status_code"), 0)
    if code in locators.LOGIN_OR_RISK_CODES:
        raise LoginUncertain(
            f"{what}: {body.get('status_msg') or 'login required'} ({code}): logged out or throttled"
        )
    if code in locators.RISK_CODES:
        raise RiskDetected(f"{what}: {body.get('status_msg') or 'risk'} ({code})")
    if code != 0:
        raise CrawlError(f"{what}: status_code {code} {body.get('status_msg') or ''}".strip())
    return body


def body_list(*, body: dict[str, Any], what: str, keys: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The first of `keys` that holds a list. An empty page may carry null (or nothing) there, but
    then says so (`has_more` 0 and no total); anything else is SurfaceChanged naming the field."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, list):
            return key, value
    says_empty = "has_more" in body and not has_more(body.get("has_more"))
    no_total = as_int(body.get("total"), 0) == 0 and as_int(body.get("total_count"), 0) == 0
    if all(body.get(key) is None for key in keys) and says_empty and no_total:
        return keys[0], []
    raise SurfaceChanged(
        f"{what}: no list under {' / '.join(keys)} (keys: {', '.join(sorted(body)) or 'none'})",
        locator=f"{what}.{keys[0]}",
        sample=body,
    )


def records_parse(
    *, items: list[Any], what: str, parse: Callable[[Any], T | None], skipped: list[DriftNote]
) -> list[T]:
    """`parse` each item; one that raises is skipped and noted with the field that failed."""
    records: list[T] = []
    for index, item in enumerate(items):
        try:
            record = parse(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            skipped.append(DriftNote(locator=f"{what}[{index}]", message=detail[:200], sample=item))
            continue
        if record is not None:
            records.append(record)
    return records

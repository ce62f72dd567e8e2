"""The worker's bound on resident listening pages (crawler/listener.py ``ResidentPages``): at most
``limit`` accounts hold a page; a more active account takes the page of the least recently active one;
an account no more active than every holder keeps polling. (The listening itself is proven end to end
in tests/e2e/test_crawler_listener.py; this pins the admission rule.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crawler.listener import ResidentPages


@dataclass
class Holder:
    """What the bound reads of a listener: its account and when it last saw activity."""

    account_id: int
    last_activity: float


def _admit(pages: ResidentPages, holder: Holder) -> Any:
    return pages.admit(holder)  # type: ignore[arg-type]


def test_pages_up_to_the_limit_then_the_least_active_makes_room() -> None:
    pages = ResidentPages(2)
    a, b, c = Holder(1, 100.0), Holder(2, 200.0), Holder(3, 300.0)
    # the first two get pages; asking again keeps the page
    assert (_admit(pages, a), _admit(pages, b), _admit(pages, a)) == (True, True, True)
    # a third, more active than the least active holder, is told whom to evict (a, the oldest)
    assert _admit(pages, c) is a
    pages.release(a)  # type: ignore[arg-type]
    assert _admit(pages, c) is True
    assert sorted(pages.holders) == [2, 3]


def test_an_account_no_more_active_than_every_holder_keeps_polling() -> None:
    pages = ResidentPages(1)
    assert _admit(pages, Holder(1, 500.0)) is True
    assert _admit(pages, Holder(2, 500.0)) is False  # a tie does not evict
    assert _admit(pages, Holder(3, 100.0)) is False


def test_limit_zero_means_poll_only_and_release_forgets_only_the_holder() -> None:
    assert _admit(ResidentPages(0), Holder(1, 1.0)) is False
    pages = ResidentPages(1)
    first = Holder(1, 1.0)
    assert _admit(pages, first) is True
    pages.release(Holder(1, 1.0))  # type: ignore[arg-type]  # another object for the same account: kept
    assert list(pages.holders) == [1]
    pages.release(first)  # type: ignore[arg-type]
    assert pages.holders == {}

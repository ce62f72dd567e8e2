"""The read lane's route table, derived from the URL configuration: written once, in the DRF router.

Every URL pattern whose view is an IM viewset action with a query of its own (``ImViewSet.reads``) is
a lane route: its full path as one regex (every level's pattern joined, as Django resolves it), the
``ReadQuery`` to run, and the route label Django's latency middleware gives the same request
(``ResolverMatch.route``), so both paths record a request under one label in ``/metrics``.
Other routes (writes, a reply's status read from the database) are not in the table: Django serves
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from datasync.im.api.queries import ReadQuery


@dataclass(frozen=True)
class Route:
    """One read route of the lane: what answers it, and its label in the API latency histogram."""

    read: ReadQuery
    label: str
    detail: bool  # takes ``pk`` from the path


def _join(route: str, sub: str) -> str:
    """Two levels' route labels joined as Django's resolver joins them (``ResolverMatch.route``)."""
    return sub if not route else route + sub.removeprefix("^")


def _regex(pattern: Any) -> str:
    return str(pattern.regex.pattern).removeprefix("^")


def _patterns(patterns: list[Any], regex: str = "", route: str = "") -> Iterator[tuple[Any, str, str]]:
    """(URL pattern, its full path regex without the leading slash, its route label), in urlconf order."""
    for pattern in patterns:
        joined = _join(route, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, regex + _regex(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            yield pattern, regex + _regex(pattern.pattern), joined


def _read_of(pattern: URLPattern) -> ReadQuery | None:
    """The query of a GET the pattern's view answers from the store, if it is an IM viewset's read."""
    from datasync.im.api.views import ImViewSet

    view = getattr(pattern.callback, "cls", None)
    action = (getattr(pattern.callback, "actions", None) or {}).get("get")
    if not (isinstance(view, type) and issubclass(view, ImViewSet) and action):
        return None
    return view.reads.get(action)


class Routes:
    """The lane's routes: exact paths in a dict, paths with a ``pk`` by regex."""

    def __init__(self, routes: list[tuple[re.Pattern[str], Route]]) -> None:
        self.exact: dict[str, Route] = {}
        self.by_regex: list[tuple[re.Pattern[str], Route]] = []
        for regex, route in routes:
            literal = regex.pattern.removesuffix("$")
            if not route.detail and regex.fullmatch(literal):
                self.exact.setdefault("/" + literal, route)
            else:
                self.by_regex.append((regex, route))

    def match(self, path: str) -> tuple[Route, str | None] | None:
        """The read route of a request path and its ``pk``, or None (not a read route: Django answers)."""
        route = self.exact.get(path)
        if route is not None:
            return route, None
        for regex, route in self.by_regex:
            found = regex.fullmatch(path, 1)  # after the leading slash
            if found is not None:
                return route, found.group("pk") if route.detail else None
        return None


def lane_routes(urlconf: str | None = None) -> Routes:
    """Every IM read route of the URL configuration (the project's by default)."""
    found: list[tuple[re.Pattern[str], Route]] = []
    for pattern, regex, label in _patterns(get_resolver(urlconf).url_patterns):
        read = _read_of(pattern)
        if read is None:
            continue
        compiled = re.compile(regex)
        found.append((compiled, Route(read=read, label=label, detail="pk" in compiled.groupindex)))
    return Routes(found)

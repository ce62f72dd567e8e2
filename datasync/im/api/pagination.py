"""Cursor pages of the IM API: ``{"results": [...], "next": url|null, "next_cursor": str|null}``.

The store produces the cursor (an opaque position, stable while new items arrive); this module only
builds the next page's URL from the current request.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def page_response(*, request: Request, results: list[dict[str, Any]], next_cursor: str | None) -> Response:
    next_url = (
        replace_query_param(request.build_absolute_uri(), "cursor", next_cursor)
        if next_cursor is not None
        else None
    )
    return Response({"results": results, "next": next_url, "next_cursor": next_cursor})

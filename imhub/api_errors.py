"""DRF's exception handler for every API view, plus one case it leaves to a 500: a number in the
request past what the database stores (OverflowError from a lookup) is the client's error, a 400."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OverflowError):
        return Response(
            {"error": "invalid_parameter", "detail": "a number in the request is out of range"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return exception_handler(exc, context)

"""The IM API's one error edge: store/lifecycle errors become 400 (naming the parameter) or 404."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from rest_framework import status
from rest_framework.response import Response

from datasync.im.errors import ActionConflict, ActionForbidden
from datasync.im.replies import ReplyConfirmRequired
from datasync.store import StoreNotFound, StoreQueryError


class StoreUnavailable(Exception):
    """This process's DataStore is not loaded (yet); the client should retry."""


def im_error_parts(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """(status, body, headers) for an IM API error, or None when ``exc`` is not one of ours."""
    if isinstance(exc, StoreQueryError):
        return (
            status.HTTP_400_BAD_REQUEST,
            {"error": "invalid_parameter", "param": exc.param, "detail": exc.message},
            {},
        )
    if isinstance(exc, ReplyConfirmRequired):
        return (
            status.HTTP_409_CONFLICT,
            {"error": exc.code, "param": "confirm", "retry_of": exc.retry_of, "detail": str(exc)},
            {},
        )
    if isinstance(exc, ActionForbidden):
        return status.HTTP_403_FORBIDDEN, {"error": exc.code, "detail": exc.detail}, {}
    if isinstance(exc, ActionConflict):
        return (
            status.HTTP_409_CONFLICT,
            {
                "error": exc.code,
                **({"param": "confirm"} if exc.confirmable else {}),
                "detail": exc.detail,
                **exc.extra,
            },
            {},
        )
    if isinstance(exc, StoreNotFound):
        return status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": f"{exc.what} not found"}, {}
    if isinstance(exc, DatabaseError):
        # the database is down (reads go on from memory; a write cannot be made durable): fail fast
        return (
            status.HTTP_503_SERVICE_UNAVAILABLE,
            {"error": "database_unavailable", "detail": "the database cannot be reached; retry shortly"},
            {"Retry-After": "5"},
        )
    if isinstance(exc, StoreUnavailable):
        return (
            status.HTTP_503_SERVICE_UNAVAILABLE,
            {"error": "store_unavailable", "detail": str(exc)},
            {"Retry-After": "1"},
        )
    return None


def im_error_response(exc: Exception) -> Response | None:
    """The DRF response for an IM API error, or None when ``exc`` is not one of ours."""
    parts = im_error_parts(exc)
    if parts is None:
        return None
    code, body, headers = parts
    return Response(body, status=code, headers=headers or None)


def serializer_errors_to_query_error(errors: dict[str, Any]) -> StoreQueryError:
    """The first field error of a DRF serializer as a StoreQueryError naming that parameter."""
    field, messages = next(iter(errors.items()))
    message = messages[0] if isinstance(messages, list) and messages else messages
    if isinstance(message, dict):  # nested serializer (target.kind)
        sub, sub_messages = next(iter(message.items()))
        return StoreQueryError(
            f"{field}.{sub}", str(sub_messages[0] if isinstance(sub_messages, list) else sub_messages)
        )
    return StoreQueryError(str(field), str(message))

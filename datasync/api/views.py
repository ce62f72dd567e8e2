"""IM API viewsets over the DataStore (design section 5). Transport only: parse, call one function, respond.

Every list is answered from this process's DataStore; the account is checked against the user's teams
first (404 when not visible). Errors are translated once, in ``ImViewSet.handle_exception``.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from datasync.api import queries
from datasync.api import serializers as s
from datasync.api.access import account_for, account_visible_check, accounts_for, im_store
from datasync.api.auth import CachedTokenAuthentication
from datasync.api.errors import im_error_response, serializer_errors_to_query_error
from datasync.api.pagination import page_response
from datasync.api.params import page_params, query_int, query_str
from datasync.api.serializers import MAX_LIMIT
from datasync.models import ReplyRequest
from datasync.readmarks import read_mark_create, read_mark_message
from datasync.replies import reply_create
from datasync.store import StoreNotFound, StoreQueryError

ACCOUNT_FIELDS = (
    "id",
    "platform",
    "nickname",
    "platform_user_id",
    "avatar_url",
    "status",
    "login_status",
    "runner_status",
    "last_error",
)


def _params(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializer_errors_to_query_error(serializer.errors)
    return dict(serializer.validated_data)


class ImViewSet(viewsets.ViewSet):
    """Base of the IM viewsets: the one place store and lifecycle errors become HTTP errors."""

    lookup_value_regex = r"[^/]+"
    authentication_classes = [SessionAuthentication, CachedTokenAuthentication]

    def handle_exception(self, exc: Exception) -> Response:
        response = im_error_response(exc)
        return response if response is not None else super().handle_exception(exc)

    def _account_params(self, request: Request, **extra: Any) -> dict[str, Any]:
        """Page parameters plus ``extra`` parsed ones; the account must be visible to the user."""
        params = page_params(request.query_params)
        params.update(extra)
        account_visible_check(user=request.user, account_id=params["account_id"])
        return params


class AccountViewSet(ImViewSet):
    """Monitored accounts the user may see, with unread counts and last activity from the store."""

    @staticmethod
    def _account_out(row: dict[str, Any], store: Any) -> dict[str, Any]:
        data = dict(row)
        data.update(store.account_summary(row["id"]))
        return data

    @extend_schema(parameters=[s.PageParams], responses=s.AccountOut(many=True))
    def list(self, request: Request) -> Response:
        q = request.query_params
        limit = query_int(q, "limit", default=20, high=MAX_LIMIT)
        cursor = query_str(q, "cursor", required=False)
        if cursor is not None and not cursor.isdigit():
            raise StoreQueryError("cursor", "not a valid cursor")
        store = im_store()
        rows = list(
            accounts_for(request.user)
            .filter(pk__gt=int(cursor or 0))
            .order_by("pk")
            .values(*ACCOUNT_FIELDS)[: limit + 1]
        )
        more = len(rows) > limit
        results = [self._account_out(row, store) for row in rows[:limit]]
        return page_response(
            request=request, results=results, next_cursor=str(results[-1]["id"]) if more else None
        )

    @extend_schema(responses=s.AccountOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        if not pk.isdigit():
            raise StoreNotFound("account", pk)
        account = account_for(user=request.user, account_id=int(pk))
        row = {field: getattr(account, field) for field in ACCOUNT_FIELDS}
        return Response(self._account_out(row, im_store()))


class ConversationViewSet(ImViewSet):
    """DM conversations by last message time (newest first), with peer, preview and unread count."""

    @extend_schema(parameters=[s.AccountParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        results, nxt = queries.conversations_list(store=im_store(), q=request.query_params, user=request.user)
        return page_response(request=request, results=results, next_cursor=nxt)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        p = self._account_params(request)
        return Response(im_store().conversation_get(account_id=p["account_id"], conversation_id=pk))


class MessageViewSet(ImViewSet):
    """Messages of one conversation, newest first."""

    @extend_schema(parameters=[s.MessagesParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        results, nxt = queries.messages_list(store=im_store(), q=request.query_params, user=request.user)
        return page_response(request=request, results=results, next_cursor=nxt)


class ContentViewSet(ImViewSet):
    """Works with stats; ``ordering`` by publish time or any stat, ``-`` for descending (default newest)."""

    @extend_schema(parameters=[s.ContentsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        results, nxt = queries.contents_list(store=im_store(), q=request.query_params, user=request.user)
        return page_response(request=request, results=results, next_cursor=nxt)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        p = self._account_params(request)
        return Response(im_store().content_get(account_id=p["account_id"], content_id=pk))


class DiscussionViewSet(ImViewSet):
    """Top-level comments of a work (``content_id``), or the replies to a comment (``parent_id``); newest first."""

    @extend_schema(parameters=[s.DiscussionsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        results, nxt = queries.discussions_list(store=im_store(), q=request.query_params, user=request.user)
        return page_response(request=request, results=results, next_cursor=nxt)


class UnifiedMessageViewSet(ImViewSet):
    """Comments and DMs merged newest first (one time unit: epoch ms); filter by ``types`` and ``unread``."""

    @extend_schema(parameters=[s.UnifiedParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        results, nxt = queries.unified_list(store=im_store(), q=request.query_params, user=request.user)
        return page_response(request=request, results=results, next_cursor=nxt)

    @extend_schema(parameters=[s.AccountIdParam], responses=s.UnreadOut)
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        return Response(queries.unread_stats_get(store=im_store(), q=request.query_params, user=request.user))


class ReadMarkViewSet(ImViewSet):
    """Mark items, a whole conversation or a work's comments read, for everyone who sees the account."""

    @extend_schema(request=s.ReadMarkBody, responses={201: s.ReadMarkOut})
    def create(self, request: Request) -> Response:
        body = _params(s.ReadMarkBody, request.data)
        account = account_for(user=request.user, account_id=body["account_id"])
        store = im_store()
        mark, marked = read_mark_create(
            store=store,
            account=account,
            user=request.user,
            target=body["target"],
            kind=body.get("kind", ""),
            ids=body.get("ids"),
            conversation_id=body.get("conversation_id", ""),
            content_id=body.get("content_id", ""),
        )
        data = read_mark_message(mark=mark)
        data.update(marked=marked, unread=store.unread_stats(account.id))
        return Response(data, status=status.HTTP_201_CREATED)


class ReplyViewSet(ImViewSet):
    """Replies performed by the worker holding the account; 202 + id; status by GET; never deleted."""

    @extend_schema(
        request=s.ReplyBody,
        responses={202: s.ReplyOut, 200: OpenApiResponse(s.ReplyOut, description="same idempotency key")},
    )
    def create(self, request: Request) -> Response:
        body = _params(s.ReplyBody, request.data)
        account = account_for(user=request.user, account_id=body["account_id"])
        reply, created = reply_create(
            store=im_store(),
            account=account,
            user=request.user,
            target=dict(body["target"]),
            text=body["text"],
            idempotency_key=body["idempotency_key"],
        )
        reply.refresh_from_db()
        return Response(reply.as_status(), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    @extend_schema(responses=s.ReplyOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        reply = ReplyRequest.objects.filter(pk=_uuid(pk), account__in=accounts_for(request.user)).first()
        if reply is None:
            raise StoreNotFound("reply", pk)
        return Response(reply.as_status())


def _uuid(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise StoreNotFound("reply", value) from None


def im_ping(request: Any) -> JsonResponse:
    """A trivial endpoint (plain Django, no DRF, no store): the benchmark's ceiling for this stack."""
    return JsonResponse({"ok": True})

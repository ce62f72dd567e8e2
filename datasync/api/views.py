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
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from datasync.api import queries
from datasync.api import serializers as s
from datasync.api.access import account_for, im_store
from datasync.api.auth import CachedTokenAuthentication
from datasync.api.errors import im_error_response, serializer_errors_to_query_error
from datasync.api.pagination import page_response
from datasync.api.render import ImJSONRenderer
from datasync.api.visibility import account_directory, accounts_for, visible_account_ids
from datasync.models import ReplyRequest
from datasync.readmarks import read_mark_create, read_mark_message
from datasync.replies import reply_create
from datasync.store import StoreNotFound


def _params(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializer_errors_to_query_error(serializer.errors)
    return dict(serializer.validated_data)


class ImViewSet(viewsets.ViewSet):
    """Base of the IM viewsets: the one place store and lifecycle errors become HTTP errors.

    The read actions are answered by ``queries`` (the same functions the ASGI read lane calls for JSON
    clients), so a request gets the same body whichever path serves it; these viewsets remain the API's
    definition (browsable API, OpenAPI schema) and serve writes.
    """

    lookup_value_regex = r"[^/]+"
    authentication_classes = [SessionAuthentication, CachedTokenAuthentication]
    renderer_classes = [ImJSONRenderer, BrowsableAPIRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        response = im_error_response(exc)
        return response if response is not None else super().handle_exception(exc)

    def _read(self, request: Request, query: Any, *, page: bool = True, **kwargs: Any) -> Response:
        """Answer a read route with ``query`` (one of ``queries``): a cursor page or one object."""
        if query in (queries.accounts_list, queries.account_get) and not account_directory.fresh:
            account_directory.refresh()
        out = query(
            store=im_store(), q=request.query_params, visible=visible_account_ids(request.user), **kwargs
        )
        if not page:
            return Response(out)
        results, nxt = out
        return page_response(request=request, results=results, next_cursor=nxt)


class AccountViewSet(ImViewSet):
    """Monitored accounts the user may see, with unread counts and last activity from the store."""

    @extend_schema(parameters=[s.PageParams], responses=s.AccountOut(many=True))
    def list(self, request: Request) -> Response:
        return self._read(request, queries.accounts_list)

    @extend_schema(responses=s.AccountOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, queries.account_get, page=False, pk=pk)


class ConversationViewSet(ImViewSet):
    """DM conversations by last message time (newest first), with peer, preview and unread count."""

    @extend_schema(parameters=[s.AccountParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request, queries.conversations_list)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, queries.conversation_get, page=False, pk=pk)


class MessageViewSet(ImViewSet):
    """Messages of one conversation, newest first."""

    @extend_schema(parameters=[s.MessagesParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request, queries.messages_list)


class ContentViewSet(ImViewSet):
    """Works with stats; ``ordering`` by publish time or any stat, ``-`` for descending (default newest)."""

    @extend_schema(parameters=[s.ContentsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request, queries.contents_list)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, queries.content_get, page=False, pk=pk)


class DiscussionViewSet(ImViewSet):
    """Top-level comments of a work (``content_id``), or the replies to a comment (``parent_id``); newest first."""

    @extend_schema(parameters=[s.DiscussionsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request, queries.discussions_list)


class UnifiedMessageViewSet(ImViewSet):
    """Comments and DMs merged newest first (one time unit: epoch ms); filter by ``types`` and ``unread``."""

    @extend_schema(parameters=[s.UnifiedParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request, queries.unified_list)

    @extend_schema(parameters=[s.AccountIdParam], responses=s.UnreadOut)
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        return self._read(request, queries.unread_stats_get, page=False)


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
            retry_of=str(body["retry_of"]) if body.get("retry_of") else None,
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

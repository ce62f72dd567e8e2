"""IM API viewsets over the DataStore (docs/architecture.md, "IM app"). Transport only: parse, call one
function, respond.

Every list is answered from this process's DataStore; the account is checked against the user's teams
first (404 when not visible). Errors are translated once, in ``ImViewSet.handle_exception``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from datasync.im.api import queries
from datasync.im.api import serializers as s
from datasync.im.api.access import account_for, account_writable_for, im_store
from datasync.im.api.auth import CachedTokenAuthentication
from datasync.im.api.errors import im_error_response, serializer_errors_to_query_error
from datasync.im.api.pagination import page_response
from datasync.im.api.render import ImJSONRenderer
from datasync.im.api.visibility import account_directory, accounts_for, visible_account_ids
from datasync.im.models import ReplyRequest
from datasync.im.readmarks import read_mark_create, read_mark_message
from datasync.im.replies import reply_cancel, reply_create
from datasync.im.writequeue import reply_status
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
    # action -> the query that answers it: the read lane serves these routes too (lane.lane_routes)
    reads: dict[str, queries.ReadQuery] = {}
    authentication_classes = [SessionAuthentication, CachedTokenAuthentication]
    renderer_classes = [ImJSONRenderer, BrowsableAPIRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        response = im_error_response(exc)
        return response if response is not None else super().handle_exception(exc)

    def _read(self, request: Request, **kwargs: Any) -> Response:
        """Answer a read action with its query (``reads[action]``): a cursor page or one object."""
        read = self.reads[str(self.action)]
        visible = visible_account_ids(request.user)
        # account rows, and a superuser's account ids (every account visible: do they exist?)
        if (read.directory or visible is None) and not account_directory.fresh:
            account_directory.refresh()
        if read.user:
            kwargs["user_id"] = request.user.pk
        out = read.fn(store=im_store(), q=request.query_params, visible=visible, **kwargs)
        if not read.page:
            return Response(out)
        results, nxt = out
        return page_response(request=request, results=results, next_cursor=nxt)


class AccountViewSet(ImViewSet):
    """Monitored accounts the user may see, with unread counts and last activity from the store."""

    reads = {"list": queries.ACCOUNTS, "retrieve": queries.ACCOUNT}

    @extend_schema(parameters=[s.PageParams], responses=s.AccountPageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(responses=s.AccountOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, pk=pk)


class ConversationViewSet(ImViewSet):
    """DM conversations by last message time (newest first), with peer, preview and unread count."""

    reads = {"list": queries.CONVERSATIONS, "retrieve": queries.CONVERSATION}

    @extend_schema(parameters=[s.AccountParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, pk=pk)


class MessageViewSet(ImViewSet):
    """Messages of one conversation, newest first."""

    reads = {"list": queries.MESSAGES}

    @extend_schema(parameters=[s.MessagesParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)


class ContentViewSet(ImViewSet):
    """Works with stats; ``ordering`` by publish time or any stat, ``-`` for descending (default newest)."""

    reads = {"list": queries.CONTENTS, "retrieve": queries.CONTENT}

    @extend_schema(parameters=[s.ContentsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(parameters=[s.AccountIdParam])
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, pk=pk)


class DiscussionViewSet(ImViewSet):
    """Top-level comments of a work (``content_id``), or the replies to a comment (``parent_id``); newest first."""

    reads = {"list": queries.DISCUSSIONS}

    @extend_schema(parameters=[s.DiscussionsParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)


class UnifiedMessageViewSet(ImViewSet):
    """Comments and DMs merged newest first (one time unit: epoch ms); filter by ``types`` and ``unread``."""

    reads = {"list": queries.UNIFIED, "stats": queries.UNREAD_STATS}

    @extend_schema(parameters=[s.UnifiedParams], responses=s.PageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(parameters=[s.AccountIdParam], responses=s.UnreadOut)
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        return self._read(request)


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
        account = account_writable_for(user=request.user, account_id=body["account_id"])
        reply, created = reply_create(
            store=im_store(),
            account=account,
            user=request.user,
            target=dict(body["target"]),
            text=body["text"],
            idempotency_key=body["idempotency_key"],
            retry_of=str(body["retry_of"]) if body.get("retry_of") else None,
            confirm=bool(body.get("confirm")),
        )
        reply.refresh_from_db()
        return Response(
            reply_status(reply), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        )

    @extend_schema(request=None, responses=s.ReplyOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Withdraw a reply still waiting in its account's write queue (409 `not_queued` once handed to
        the worker); it becomes failed with code `cancelled`."""
        reply = _visible_reply(request, pk)
        account_writable_for(user=request.user, account_id=reply.account_id)
        return Response(reply_status(reply_cancel(reply=reply, user=request.user)))

    @extend_schema(responses=s.ReplyOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        reply = _visible_reply(request, pk)
        return Response(reply_status(reply))


def _visible_reply(request: Request, pk: str) -> ReplyRequest:
    """The reply `pk` on an account the user sees (404 otherwise, indistinguishable from none)."""
    reply = (
        ReplyRequest.objects.select_related("account")
        .filter(pk=_uuid(pk), account__in=accounts_for(request.user))
        .first()
    )
    if reply is None:
        raise StoreNotFound("reply", pk)
    return reply


def _uuid(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise StoreNotFound("reply", value) from None

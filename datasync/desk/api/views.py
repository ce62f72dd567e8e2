"""Desk API viewsets. Transport only: parse, call one function, respond.

The queue, its counts and a customer's threads are reads from memory (``queries``; the ASGI read lane
serves them too); everything else is a write or reads the database (a thread's notes and replies).
Errors are translated by ``ImViewSet.handle_exception``, as in the IM API.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from datasync.desk import activity, autoassign, canned, filters, presence, replies, reports, states
from datasync.desk.activity import desk_index
from datasync.desk.api import queries
from datasync.desk.api import serializers as s
from datasync.desk.models import CannedReply, ThreadEvent
from datasync.im.api.access import account_writable_for, im_store
from datasync.im.api.views import ImViewSet, _params
from datasync.im.api.visibility import visible_account_ids
from datasync.im.writequeue import reply_status
from datasync.store import StoreNotFound


def _writable(user: Any) -> frozenset[int] | None:
    from accounts.services import accounts_writable_ids

    return accounts_writable_ids(user)


class ThreadViewSet(ImViewSet):
    """The support queue across every account of the user's teams: threads with status and assignee."""

    reads = {"list": queries.THREADS, "counts": queries.THREAD_COUNTS}

    @extend_schema(parameters=[s.QueueParams], responses=s.ThreadPageOut)
    def list(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def counts(self, request: Request) -> Response:
        return self._read(request)

    @extend_schema(responses=s.ThreadOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        row = activity.thread_row_for(ident=pk, visible=visible_account_ids(request.user))
        return Response(replies.thread_detail(store=im_store(), row=row))

    @extend_schema(request=s.BulkBody, responses={200: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """One action on the given threads, or on every thread matching ``filter`` (queue parameters)."""
        body = _params(s.BulkBody, request.data)
        visible = visible_account_ids(request.user)
        act = states.act_check(
            action=body["action"],
            assignee_id=body.get("assignee_id"),
            until=body.get("until"),
            label=body.get("label"),
            now=states.now_ms(),
        )
        ids = list(body.get("ids") or [])
        if body.get("filter") is not None:
            where = queries.queue_filter(body["filter"], user_id=request.user.pk)
            ids = desk_index.matching(where=where, visible=visible, cap=states.MAX_THREADS)
        rows = states.threads_act(
            store=im_store(),
            user=request.user,
            ids=ids,
            act=act,
            visible=visible,
            writable=_writable(request.user),
        )
        return Response({"action": act.action, "count": len(rows), "threads": rows})

    @extend_schema(request=s.ThreadReplyBody, responses={202: dict})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        """Reply into the thread; 409 ``answered_since`` when someone answered it after ``opened_at``."""
        body = _params(s.ThreadReplyBody, request.data)
        row = activity.thread_row_for(ident=pk, visible=visible_account_ids(request.user))
        account = account_writable_for(user=request.user, account_id=row.account_id)
        reply, created = replies.thread_reply(
            store=im_store(),
            user=request.user,
            row=row,
            account=account,
            text=body["text"],
            idempotency_key=body["idempotency_key"],
            opened_at=body["opened_at"],
            confirm=body["confirm"],
            reply_to=body.get("reply_to"),
        )
        reply.refresh_from_db()
        return Response(
            reply_status(reply), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        )

    @extend_schema(request=s.NoteBody, responses={201: dict})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        """A private note in the thread: the team sees it, the platform never does."""
        body = _params(s.NoteBody, request.data)
        row = activity.thread_row_for(
            ident=pk, visible=visible_account_ids(request.user), writable=_writable(request.user), write=True
        )
        note = replies.note_add(user=request.user, row=row, text=body["text"])
        return Response(replies.note_json(note), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PresenceBody, responses={204: None})
    @action(detail=True, methods=["post"])
    def presence(self, request: Request, pk: str) -> Response:
        """I am viewing / typing in / have left this thread (refresh viewing every 10 s)."""
        body = _params(s.PresenceBody, request.data)
        row = activity.thread_row_for(ident=pk, visible=visible_account_ids(request.user))
        presence.presence_report(
            thread=row.id, account_id=row.account_id, user=request.user, state=body["state"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerViewSet(ImViewSet):
    """A customer (fan) and their threads across the accounts the user sees."""

    reads = {"retrieve": queries.CUSTOMER}

    @extend_schema(responses={200: dict})
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._read(request, pk=pk)


class CannedReplyViewSet(ImViewSet):
    """The snippets of the user's teams; ``/shortcut`` in the reply box; ``{name}`` is the customer."""

    def _get(self, request: Request, pk: str) -> CannedReply:
        row = (
            canned.canned_visible(request.user)
            .filter(pk=int(pk) if pk.isascii() and pk.isdigit() else 0)
            .first()
        )
        if row is None:
            raise StoreNotFound("canned reply", pk)
        return row

    @extend_schema(responses={200: dict})
    def list(self, request: Request) -> Response:
        return Response({"results": [canned.canned_json(r) for r in canned.canned_visible(request.user)]})

    @extend_schema(request=s.CannedBody, responses={201: dict})
    def create(self, request: Request) -> Response:
        body = _params(s.CannedBody, request.data)
        row = canned.canned_save(user=request.user, **body)
        return Response(canned.canned_json(row), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CannedBody, responses={200: dict})
    def update(self, request: Request, pk: str) -> Response:
        row = self._get(request, pk)
        body = _params(s.CannedBody, request.data)
        return Response(canned.canned_json(canned.canned_save(user=request.user, canned=row, **body)))

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        canned.canned_delete(user=request.user, canned=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedFilterViewSet(ImViewSet):
    """Saved queue views: yours and those shared with your teams."""

    @extend_schema(responses={200: dict})
    def list(self, request: Request) -> Response:
        return Response({"results": [filters.filter_json(f) for f in filters.filters_visible(request.user)]})

    @extend_schema(request=s.SavedFilterBody, responses={201: dict})
    def create(self, request: Request) -> Response:
        body = _params(s.SavedFilterBody, request.data)
        row = filters.filter_save(
            user=request.user,
            name=body["name"],
            params=dict(body.get("params") or {}),
            view=body["view"],
            team_id=body.get("team_id"),
        )
        return Response(filters.filter_json(row), status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        filters.filter_delete(user=request.user, pk=int(pk) if pk.isascii() and pk.isdigit() else 0)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeskInfoViewSet(ImViewSet):
    """Who I am and whom I can assign to; reports; the audit trail (staff)."""

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        writable = _writable(request.user)
        return Response(
            {
                "id": request.user.pk,
                "username": request.user.get_username(),
                "is_staff": request.user.is_staff,
                "teams": list(request.user.groups.order_by("name").values("id", "name")),
                "writable_account_ids": None if writable is None else sorted(writable),
            }
        )

    @extend_schema(request=s.OnlineBody, responses={200: dict})
    @action(detail=False, methods=["post"])
    def online(self, request: Request) -> Response:
        """The desk page's heartbeat (every 30 s) and the agent's available/away switch."""
        body = _params(s.OnlineBody, request.data)
        agent = autoassign.agent_seen(user=request.user, available=body.get("available"))
        return Response({"available": agent.available})

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def agents(self, request: Request) -> Response:
        """The users who see an account of mine and may act on it: the assignees I can pick."""
        from django.contrib.auth import get_user_model

        from accounts.models import TeamRole

        visible = visible_account_ids(request.user)
        users = get_user_model().objects.filter(is_active=True)
        if visible is not None:
            users = users.filter(groups__accounts__in=visible).exclude(
                team_roles__role=TeamRole.READ_ONLY, team_roles__team__accounts__in=visible
            )
        rows = users.distinct().order_by("username").values("id", "username")
        return Response({"results": list(rows)})

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def reports(self, request: Request) -> Response:
        days = request.query_params.get("days", "7")
        return Response(
            reports.desk_report(
                account_ids=visible_account_ids(request.user),
                days=int(days) if days.isascii() and days.isdigit() else 7,
            )
        )

    @extend_schema(
        parameters=[OpenApiParameter("thread", str, description="Only this thread's actions.")],
        responses={200: dict},
    )
    @action(detail=False, methods=["get"])
    def audit(self, request: Request) -> Response:
        """The latest actions on threads (staff only): who did what, when."""
        if not request.user.is_staff:
            raise StoreNotFound("audit", "")
        visible = visible_account_ids(request.user)
        events = ThreadEvent.objects.select_related("actor")
        if visible is not None:
            events = events.filter(account_id__in=visible)
        thread = request.query_params.get("thread")
        if thread:
            events = events.filter(thread=thread)
        return Response(
            {
                "results": [
                    {
                        "id": e.pk,
                        "thread": e.thread,
                        "action": e.action,
                        "actor": e.actor.get_username() if e.actor else None,
                        "data": e.data,
                        "at": e.at.isoformat(),
                    }
                    for e in events[:200]
                ]
            }
        )

"""Management API for staff: accounts CRUD and actions, workers list, QR login sessions.

Transport only: each view validates input and calls one `accounts.services` function. Anonymous
requests get 401 (token authentication is listed first, so DRF sends `WWW-Authenticate`), non-staff 403,
invalid input 400 naming the field, an `AccountsError` 409 with its code.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import AccountSerializer, LoginSessionSerializer, WorkerSerializer
from accounts.models import Account, LoginSession, Worker


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _refuse(exc: services.AccountsError) -> Conflict:
    return Conflict({"code": exc.code, "detail": exc.message})


class StaffOnly:
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]


class AccountViewSet(StaffOnly, viewsets.ModelViewSet):
    """Accounts: list, create, read, update (status changes pause/resume), delete; plus actions."""

    serializer_class = AccountSerializer
    queryset = Account.objects.select_related("worker").order_by("id")

    def perform_create(self, serializer: AccountSerializer) -> None:
        serializer.instance = services.account_create(**serializer.validated_data)

    def perform_update(self, serializer: AccountSerializer) -> None:
        serializer.instance = services.account_update(
            account=serializer.instance, changes=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance: Account) -> None:
        services.account_delete(account=instance)

    def _act(self, fn: Any) -> Response:
        try:
            account = fn(account=self.get_object())
        except services.AccountsError as exc:
            raise _refuse(exc) from None
        account = Account.objects.select_related("worker").get(pk=self.get_object().pk)
        return Response(self.get_serializer(account).data)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self._act(services.account_pause)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._act(services.account_resume)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        return self._act(services.account_reassign)

    @extend_schema(
        request=None,
        responses={202: inline_serializer("ResyncOut", fields={"requested": serializers.BooleanField()})},
    )
    @action(detail=True, methods=["post"])
    def resync(self, request: Request, pk: str | None = None) -> Response:
        try:
            services.account_request_resync(account=self.get_object())
        except services.AccountsError as exc:
            raise _refuse(exc) from None
        return Response({"requested": True}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={201: LoginSessionSerializer})
    @action(detail=True, methods=["post"])
    def login(self, request: Request, pk: str | None = None) -> Response:
        """Start a QR login; 201 with the session (already `failed`, with a message, if no worker holds it)."""
        session = services.login_start(account=self.get_object(), user=request.user)
        return Response(LoginSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class WorkerViewSet(StaffOnly, viewsets.ReadOnlyModelViewSet):
    """Workers with load (accounts held), heartbeat age and last stats. Never a token field."""

    serializer_class = WorkerSerializer
    queryset = Worker.objects.annotate(load=Count("accounts")).order_by("worker_id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}


class LoginSessionViewSet(
    StaffOnly, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """QR login sessions (newest first; `?account=` filters); one past its expiry reads as `timeout`."""

    serializer_class = LoginSessionSerializer

    def get_queryset(self) -> Any:
        qs = LoginSession.objects.order_by("-created_at")
        account = self.request.query_params.get("account")
        if account is not None:
            if not (account.isascii() and account.isdigit()):
                raise ValidationError({"account": ["A valid integer is required."]})
            qs = qs.filter(account_id=int(account))
        return qs

    def get_object(self) -> LoginSession:
        return services.login_session_refresh(session=super().get_object())

    @extend_schema(parameters=[OpenApiParameter("account", int, description="Only this account's sessions.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sessions = [services.login_session_refresh(session=s) for s in self.get_queryset()[:100]]
        return Response(self.get_serializer(sessions, many=True).data)

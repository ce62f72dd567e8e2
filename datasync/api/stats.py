"""`GET /api/datasync/stats/`: the operator's first figures (docs/operations.md), staff only."""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasync.runtime import runtime
from datasync.stats import stats_snapshot


class DatasyncStatsView(APIView):
    """Store totals, frames received/applied/rejected, items, last receive times, workers, accounts."""

    # Token first, so an anonymous request gets 401 (with WWW-Authenticate) rather than 403.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]

    def get(self, request: Request) -> Response:
        ready = runtime.ready
        if not ready and runtime.started:
            try:
                runtime.wait_ready(timeout=30.0)
                ready = True
            except TimeoutError:
                ready = False
        data = stats_snapshot(store=runtime.store, store_ready=ready)
        data["store"]["load_seconds"] = runtime.load_seconds
        data["store"]["load_error"] = runtime.load_error
        data["store"]["load"] = runtime.load_report
        return Response(data)

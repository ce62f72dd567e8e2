"""Root URL configuration: admin, health, metrics, API docs, then each app's own routes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from imhub.dashboard import dashboard_view
from imhub.health import healthz, readyz
from imhub.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/dashboard/", dashboard_view, name="imhub-dashboard"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its init script as a file: the docs run under the CSP (imhub/security.py)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("api/manage/", include("accounts.api.urls")),  # the management API (staff)
    path("api/", include("datasync.api.urls")),  # the sync core's stats
    path("", include("datasync.desk.urls")),  # the desk API (/api/desk/) and the desk page (/desk/)
    path("", include("datasync.im.urls")),  # the IM API (/api/im/) and the inbox page (/inbox/)
]


def _api_json(status: int, error: str, detail: str, default: Any) -> Any:
    """Django's own error page, or under /api/ the API's JSON error (`{error, detail}`)."""

    def handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"error": error, "detail": detail}, status=status)
        return default(request) if exception is None else default(request, exception)

    return handler


# Errors raised before a view answers (no URL matches, a request Django refuses: too many fields, a
# bad host): JSON under /api/, as every API answer is.
handler400 = _api_json(400, "bad_request", "the request was refused", defaults.bad_request)
handler404 = _api_json(404, "not_found", "no such route or object", defaults.page_not_found)
handler500 = _api_json(500, "internal_error", "the hub failed to answer; it is logged", defaults.server_error)

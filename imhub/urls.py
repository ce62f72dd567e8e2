"""Root URL configuration: admin, health, metrics, API docs, then each app's own routes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
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

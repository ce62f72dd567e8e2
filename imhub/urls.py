"""Root URL configuration: admin, health, APIs (each app adds its own routes)."""

from __future__ import annotations

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from imhub.dashboard import dashboard_view
from imhub.health import healthz
from imhub.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/dashboard/", dashboard_view, name="imhub-dashboard"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("inbox/", include("datasync.inbox.urls")),
]

# App URL modules are added when they exist, so each app owns its routes.
for _module, _prefix in (
    ("accounts.api.urls", "api/manage/"),
    ("datasync.api.urls", "api/"),
):
    if find_spec(_module.rsplit(".", 1)[0]) is not None and find_spec(_module) is not None:
        urlpatterns.append(path(_prefix, include(_module)))

"""The sync core's URL routes under /api/ (included by imhub.urls)."""

from __future__ import annotations

from django.urls import path

from datasync.api.stats import DatasyncStatsView

urlpatterns = [
    path("datasync/stats/", DatasyncStatsView.as_view(), name="datasync-stats"),
]

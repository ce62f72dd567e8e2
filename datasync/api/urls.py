"""URL routes under /api/ (included by imhub.urls)."""

from __future__ import annotations

from django.urls import path

from datasync.api.stats import DatasyncStatsView

urlpatterns = [
    path("datasync/stats/", DatasyncStatsView.as_view(), name="datasync-stats"),
]

# ---- IM API (datasync/api/views.py, owned by the IM API engineer): add its router below. ----

"""URL routes under /api/ (included by imhub.urls)."""

from __future__ import annotations

from django.urls import path

from datasync.api.stats import DatasyncStatsView

urlpatterns = [
    path("datasync/stats/", DatasyncStatsView.as_view(), name="datasync-stats"),
]

# ---- IM API (datasync/api/views.py, owned by the IM API engineer): add its router below. ----
from rest_framework.routers import SimpleRouter  # noqa: E402

from datasync.api import views as im_views  # noqa: E402

im_router = SimpleRouter()
im_router.register("im/accounts", im_views.AccountViewSet, basename="im-accounts")
im_router.register("im/conversations", im_views.ConversationViewSet, basename="im-conversations")
im_router.register("im/messages", im_views.MessageViewSet, basename="im-messages")
im_router.register("im/contents", im_views.ContentViewSet, basename="im-contents")
im_router.register("im/discussions", im_views.DiscussionViewSet, basename="im-discussions")
im_router.register("im/unified-messages", im_views.UnifiedMessageViewSet, basename="im-unified-messages")
im_router.register("im/read-marks", im_views.ReadMarkViewSet, basename="im-read-marks")
im_router.register("im/replies", im_views.ReplyViewSet, basename="im-replies")
urlpatterns += [path("im/ping/", im_views.im_ping, name="im-ping"), *im_router.urls]

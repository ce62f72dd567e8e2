"""The IM API's routes under /api/ (included by datasync.im.urls): one DRF router."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from datasync.im.api import views

router = SimpleRouter()
router.register("im/accounts", views.AccountViewSet, basename="im-accounts")
router.register("im/conversations", views.ConversationViewSet, basename="im-conversations")
router.register("im/messages", views.MessageViewSet, basename="im-messages")
router.register("im/contents", views.ContentViewSet, basename="im-contents")
router.register("im/discussions", views.DiscussionViewSet, basename="im-discussions")
router.register("im/unified-messages", views.UnifiedMessageViewSet, basename="im-unified-messages")
router.register("im/read-marks", views.ReadMarkViewSet, basename="im-read-marks")
router.register("im/replies", views.ReplyViewSet, basename="im-replies")

urlpatterns = [*router.urls]

"""The desk API's routes under /api/desk/: one DRF router."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from datasync.desk.api import views

router = SimpleRouter()
router.register("desk/threads", views.ThreadViewSet, basename="desk-threads")
router.register("desk/customers", views.CustomerViewSet, basename="desk-customers")
router.register("desk/canned-replies", views.CannedReplyViewSet, basename="desk-canned")
router.register("desk/saved-filters", views.SavedFilterViewSet, basename="desk-filters")
router.register("desk", views.DeskInfoViewSet, basename="desk-info")

urlpatterns = [*router.urls]

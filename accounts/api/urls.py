"""Management API routes, mounted at /api/manage/ by imhub/urls.py."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from accounts.api.views import AccountViewSet, LoginSessionViewSet, WorkerViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("accounts", AccountViewSet, basename="manage-account")
router.register("workers", WorkerViewSet, basename="manage-worker")
router.register("login-sessions", LoginSessionViewSet, basename="manage-login-session")

urlpatterns = router.urls

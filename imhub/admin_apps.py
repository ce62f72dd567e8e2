"""django.contrib.admin's app config with imhub's admin site (imhub/admin_site.py: optional TOTP).

Kept apart from the site itself: an app config is imported before the app registry is ready.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ImhubAdminConfig(AdminConfig):
    default_site = "imhub.admin_site.ImhubAdminSite"

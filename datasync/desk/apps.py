"""The desk app's config."""

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "datasync.desk"
    label = "desk"
    verbose_name = "Support desk"

"""The sync core's app config (`datasync`)."""

from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    name = "datasync"
    verbose_name = "Data sync"

    def ready(self) -> None:
        from datasync.persistence import entity_signals_connect

        entity_signals_connect()  # a deleted account's rows: no foreign key in the database
        from django.conf import settings

        from datasync.protocol.limits import time_window_set

        time_window_set(
            max_age_days=settings.IMHUB_TIME_MAX_AGE_DAYS, max_ahead_seconds=settings.IMHUB_TIME_MAX_AHEAD
        )

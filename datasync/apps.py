"""The sync core's app config (`datasync`)."""

from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    name = "datasync"
    verbose_name = "Data sync"

    def ready(self) -> None:
        from datasync.persistence import entity_signals_connect

        entity_signals_connect()  # a deleted account's rows: no foreign key in the database

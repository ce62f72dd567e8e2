"""The datasync app: its `ready()` is where a hub process is wired (datasync/wiring.py)."""

from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    name = "datasync"
    verbose_name = "Data sync"

    def ready(self) -> None:
        from datasync.api.auth import auth_connect_signals
        from datasync.api.visibility import visibility_connect_signals
        from datasync.persistence import entity_signals_connect
        from datasync.runtime import runtime
        from datasync.wiring import hub_wiring

        runtime.build(hub_wiring())
        # the IM API's caches of users, sessions and account rows follow model changes in this process
        visibility_connect_signals()
        auth_connect_signals()
        entity_signals_connect()  # a deleted account's rows: no foreign key in the database

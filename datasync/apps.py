"""The datasync app: its `ready()` is where a hub process is wired (datasync/wiring.py)."""

from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    name = "datasync"
    verbose_name = "Data sync"

    def ready(self) -> None:
        from datasync.runtime import runtime
        from datasync.wiring import hub_wiring

        runtime.build(hub_wiring())

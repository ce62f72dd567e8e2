"""The datasync app: its signal receivers and fan-out handlers are connected when Django is ready."""

from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    name = "datasync"
    verbose_name = "Data sync"

    def ready(self) -> None:
        from datasync.api.auth import auth_connect_signals
        from datasync.api.visibility import visibility_connect_signals, visibility_invalidate
        from datasync.fanout import register_fanout_handler

        visibility_connect_signals()
        auth_connect_signals()
        # an account changed in any hub process: its row and the teams' visibility are re-read
        register_fanout_handler("account_status", visibility_invalidate)

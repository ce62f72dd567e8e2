"""The IM app's config: its `ready()` connects the IM API's caches to the model signals."""

from django.apps import AppConfig


class ImConfig(AppConfig):
    name = "datasync.im"
    label = "im"
    verbose_name = "IM (agents)"

    def ready(self) -> None:
        from datasync.im.api.auth import auth_connect_signals
        from datasync.im.api.visibility import visibility_connect_signals

        # the IM API's caches of users, sessions and account rows follow model changes in this process
        visibility_connect_signals()
        auth_connect_signals()
        from datasync.im.revocation import revocation_connect_signals

        # revocations close open sockets and drop the caches in every hub process
        revocation_connect_signals()

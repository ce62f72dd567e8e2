from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and workers"

    def ready(self) -> None:
        from accounts.throttle import throttle_connect_signals

        throttle_connect_signals()  # failed logins recorded (with the address), the lockout counts them

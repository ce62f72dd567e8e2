from django.apps import AppConfig


class ImhubConfig(AppConfig):
    name = "imhub"
    verbose_name = "imhub"

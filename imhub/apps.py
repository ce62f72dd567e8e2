from django.apps import AppConfig


class ImhubConfig(AppConfig):
    name = "imhub"
    verbose_name = "imhub"

    def ready(self) -> None:
        from django.contrib import admin

        admin.site.index_template = "imhub/admin_index.html"
        admin.site.site_header = "imhub administration"
        admin.site.site_title = "imhub"

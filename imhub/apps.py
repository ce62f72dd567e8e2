"""The project's app config: the admin's look, and this process's hub runtime built from the wiring."""

from django.apps import AppConfig


class ImhubConfig(AppConfig):
    name = "imhub"
    verbose_name = "imhub"

    def ready(self) -> None:
        from django.contrib import admin

        from datasync.runtime import runtime
        from imhub.wiring import hub_wiring

        admin.site.index_template = "imhub/admin_index.html"
        admin.site.site_header = "imhub administration"
        admin.site.site_title = "imhub"
        runtime.build(hub_wiring())

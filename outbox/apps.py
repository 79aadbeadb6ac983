from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Email delivery")

    def ready(self):
        from . import checks, dashboard, receivers  # noqa: F401

        dashboard.register()

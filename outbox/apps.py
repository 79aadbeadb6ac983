from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Email delivery")

    def ready(self):
        from monitoring import registry

        from . import checks, dashboard, metrics, receivers  # noqa: F401

        registry.register_collector(metrics.collect, name="outbox")
        dashboard.register()

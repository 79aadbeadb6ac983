from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Email delivery")

    def ready(self):
        from . import checks, receivers  # noqa: F401

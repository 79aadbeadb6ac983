from django.apps import AppConfig
from django.core.signals import request_started
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    """The project itself: shared cache, rate limits, headers, health check, logging."""

    name = "seminar_site"
    verbose_name = _("Seminar site")

    def ready(self):
        from . import cache, checks, logs, outage  # noqa: F401 - registers the system checks

        post_migrate.connect(cache.create_cache_tables, sender=self)
        connection_created.connect(outage.database_is_back, dispatch_uid="seminar_site.database_is_back")
        request_started.connect(logs.forget_request_id, dispatch_uid="seminar_site.forget_request_id")

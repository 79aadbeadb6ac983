from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    """The project itself: shared cache, rate limits, headers, health check, logging."""

    name = "seminar_site"
    verbose_name = _("Seminar site")

    def ready(self):
        from . import cache, checks  # noqa: F401 - registers the system checks

        post_migrate.connect(cache.create_cache_tables, sender=self)

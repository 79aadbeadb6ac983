from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Talks")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import receivers  # noqa: F401
        from .search import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="events-sqlite-fold")

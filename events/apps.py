from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Talks"

    def ready(self):
        from . import receivers  # noqa: F401

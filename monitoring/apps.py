from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    """What the people who run the site watch: metrics for Prometheus, error reports to Sentry."""

    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from . import checks, collectors, errors, heartbeats, registry  # noqa: F401 - checks registers the system checks

        registry.register_collector(collectors.collect_task_queue, name="task queue")
        registry.register_collector(heartbeats.collect, name="heartbeats")
        errors.start_reporting()

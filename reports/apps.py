from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Numbers")

    def ready(self):
        from events.admin import link_staff_page

        link_staff_page("event", _("Numbers"), "reports:event")
        link_staff_page("series", _("Numbers"), "reports:series")

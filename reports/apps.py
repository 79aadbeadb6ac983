from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Numbers")

    def ready(self):
        from dashboard import registry
        from events.admin import link_staff_page

        link_staff_page("event", _("Numbers"), "reports:event")
        link_staff_page("series", _("Numbers"), "reports:series")
        registry.register_talk_link("reports.numbers", label=_("Numbers"), url_name="reports:event", order=30)
        registry.register_series_link("reports.series_numbers", label=_("Numbers"), url_name="reports:series", order=50)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TermsConfig(AppConfig):
    name = "terms"
    verbose_name = _("A term at a time")

    def ready(self):
        from dashboard import registry
        from events.admin import link_staff_page

        link_staff_page("series", _("Import talks"), "terms:import")
        link_staff_page("series", _("Export talks"), "terms:export")
        registry.register_series_link("terms.import", label=_("Import talks"), url_name="terms:import", order=20)
        registry.register_series_link("terms.export", label=_("Export talks"), url_name="terms:export", order=25)

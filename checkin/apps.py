from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = _("Check-in")

    def ready(self):
        from events.admin import link_staff_page

        link_staff_page("event", _("Check-in"), "checkin:event")

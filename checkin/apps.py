from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = _("Check-in")

    def ready(self):
        from dashboard import registry
        from events.admin import link_staff_page
        from events.scoping import CHECK_IN_ROLES

        link_staff_page("event", _("Check-in"), "checkin:event")
        # Not on a talk that is over (the dashboard's recent talks): its door takes nobody in.
        registry.register_talk_link(
            "checkin.door",
            label=_("Door"),
            url_name="checkin:event",
            order=10,
            roles=CHECK_IN_ROLES,
            applies=lambda event: not event.is_past(),
        )

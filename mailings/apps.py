from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingsConfig(AppConfig):
    name = "mailings"
    verbose_name = _("Messages to registrants")

    def ready(self):
        from dashboard import registry as dashboard_registry
        from events.admin import link_staff_page
        from outbox import registry

        from . import emails

        registry.register_kind(
            emails.MESSAGE, label=_("Message from the organizers"), build=emails.build, still_wanted=emails.still_wanted
        )
        registry.register_kind(emails.TEST, label=_("Message from the organizers (test)"), build=emails.build_test)
        registry.register_scope(emails.staff_scope)
        link_staff_page("event", _("Message registrants"), "mailings:compose")
        dashboard_registry.register_talk_link(
            "mailings.message", label=_("Message"), url_name="mailings:compose", order=20
        )

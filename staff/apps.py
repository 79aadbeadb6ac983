from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = _("Staff sign-in")

    def ready(self):
        from events.admin import link_staff_page
        from outbox import registry

        from . import checks, emails, receivers  # noqa: F401 (registers checks and receivers)
        from .models import Invitation

        registry.register_kind(
            emails.INVITATION,
            label=_("Invitation to a series' team"),
            build=emails.build_invitation,
            still_wanted=emails.invitation_still_wanted,
        )
        registry.register_kind(emails.GUESSING, label=_("Warning: password guessing"), build=emails.build_guessing)
        registry.register_about(Invitation.objects.select_related("series"))
        registry.register_scope(emails.staff_scope)
        link_staff_page("series", _("Team and invitations"), "staff:team")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpeakerEditsConfig(AppConfig):
    name = "speaker_edits"
    verbose_name = _("Speakers' own edits")

    def ready(self):
        from events.admin import link_staff_page
        from outbox import registry

        from . import dashboard, emails, services
        from .models import SpeakerEdit, SpeakerInvitation

        registry.register_kind(
            emails.INVITATION,
            label=_("Link for a speaker to edit their talk"),
            build=emails.build_invitation,
            still_wanted=emails.invitation_still_wanted,
        )
        registry.register_kind(emails.CHANGED, label=_("A speaker changed their talk"), build=emails.build_changed)
        registry.register_about(SpeakerInvitation.objects.select_related("speaker", "event"))
        registry.register_about(SpeakerEdit.objects.select_related("speaker", "event"))
        registry.register_scope(emails.staff_scope)
        registry.register_due_mail(services.erase_unsaved_photos, label=_("unsaved speaker photos"), done="erased")
        link_staff_page("event", _("Speaker's own edits"), "speaker_edits:event")
        dashboard.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaterialsConfig(AppConfig):
    name = "materials"
    verbose_name = _("Materials")

    def ready(self):
        from events import materials as talk_materials
        from events.admin import link_staff_page
        from outbox import registry
        from speaker_edits.pages import link_speaker_page

        from . import emails, receivers  # noqa: F401
        from .models import Material
        from .sources import MaterialSource

        talk_materials.register_source(MaterialSource(), name="materials")
        registry.register_kind(
            emails.ANNOUNCEMENT,
            label=_("Materials are up"),
            build=emails.build_announcement,
            still_wanted=emails.announcement_still_wanted,
        )
        registry.register_kind(
            emails.SPEAKER_ADDED,
            label=_("A speaker added materials"),
            build=emails.build_speaker_added,
            still_wanted=emails.speaker_added_still_wanted,
        )
        registry.register_about(Material.objects.select_related("event"))
        registry.register_scope(emails.staff_scope)
        link_staff_page("event", _("Materials"), "materials:event")
        link_speaker_page(
            _("Add your slides"),
            "materials:speaker",
            offer=_(
                "slides, a recording, a paper or code for the talk, as a PDF file or a link, for everyone or only "
                "for the people registered."
            ),
        )

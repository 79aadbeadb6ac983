from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DoorScreenConfig(AppConfig):
    name = "doorscreen"
    verbose_name = _("Screen by the door")

    def ready(self):
        from dashboard import registry
        from events.admin import link_staff_page

        link_staff_page("series", _("Screen by the door"), "doorscreen:manage")
        registry.register_series_link(
            "doorscreen.manage", label=_("Screen by the door"), url_name="doorscreen:manage", order=40
        )

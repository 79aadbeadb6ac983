from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostersConfig(AppConfig):
    name = "posters"
    verbose_name = _("Posters")

    def ready(self):
        from dashboard import registry
        from events.admin import link_staff_page

        link_staff_page("event", _("Poster"), "posters:talk")
        link_staff_page("series", _("Posters"), "posters:series")
        # A poster announces a talk: none for one that is over.
        registry.register_talk_link(
            "posters.talk",
            label=_("Poster"),
            url_name="posters:talk",
            order=40,
            applies=lambda event: not event.is_past(),
        )
        registry.register_series_link("posters.series", label=_("Posters"), url_name="posters:series", order=30)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowersConfig(AppConfig):
    name = "followers"
    verbose_name = _("Followers")

    def ready(self):
        from outbox import registry

        from . import dashboard, emails, receivers, services  # noqa: F401
        from .models import Follower

        registry.register_kind(
            emails.CONFIRM,
            label=_("Follow a series: confirm the address"),
            build=emails.build_confirmation,
            still_wanted=emails.still_wanted_confirmation,
        )
        registry.register_kind(
            emails.ANNOUNCEMENT,
            label=_("New talk, to followers"),
            build=emails.build_announcement,
            still_wanted=emails.still_wanted_bulk,
        )
        registry.register_kind(
            emails.DIGEST,
            label=_("Weekly digest, to followers"),
            build=emails.build_digest,
            still_wanted=emails.still_wanted_bulk,
        )
        registry.register_kind(
            emails.MANAGE_LINK,
            label=_("Follow a series: the link to change what you get"),
            build=emails.build_manage_link,
            still_wanted=emails.still_wanted_manage_link,
        )
        registry.register_about(Follower.objects.select_related("series"))
        # No staff scope: the outbox admin shows addresses, and organizers see
        # only how many follow their series (superusers see the messages).
        registry.register_due_mail(services.queue_due_digests, label=_("weekly digests"))
        dashboard.register()

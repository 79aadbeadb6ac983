from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = _("Registrations")

    def ready(self):
        from monitoring import registry as metrics_registry
        from outbox import registry

        from . import checks, dashboard, emails, mail, metrics, receivers, services  # noqa: F401
        from .models import MailKind, Registration

        for kind in MailKind:
            registry.register_kind(
                kind.value, label=kind.label, build=emails.build_message, still_wanted=mail.still_wanted
            )
        # Mail about registrations comes from other apps too (feedback, mailings, materials): loaded here.
        registry.register_about(Registration.objects.select_related("event"))
        registry.register_due_mail(services.queue_due_reminders, label=_("reminders"))
        registry.register_due_mail(services.queue_due_stream_links, label=_("links to join online"))
        # Not mail itself, but due by time like it: releasing a hold promotes (and emails) the next person.
        registry.register_due_mail(services.release_expired_holds, label=_("expired holds"), done="released")
        registry.register_scope(mail.staff_scope)
        metrics_registry.register_collector(metrics.collect, name="registrations")
        dashboard.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from outbox import registry
        from reports import registry as reports

        from . import dashboard, emails, figures, receivers, services  # noqa: F401

        registry.register_kind(
            emails.REQUEST, label=_("How was the talk?"), build=emails.build_request, still_wanted=emails.still_wanted
        )
        registry.register_due_mail(services.queue_due_feedback_requests, label=_("feedback requests"))
        registry.register_scope(emails.staff_scope)
        # No admin: organizers see the answers on the numbers pages, without names.
        reports.register_tables(event=figures.event_tables, series=figures.series_tables)
        dashboard.register()

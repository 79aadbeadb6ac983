from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import Event, scope_to_series
from registrations.models import Registration


class Audience(models.TextChoices):
    """Who of a talk's registrants a message goes to. Cancelled and erased registrations never get one."""

    CONFIRMED = "confirmed", _("Confirmed")
    HELD = "held", _("Held until confirmed")
    WAITLISTED = "waitlisted", _("Waiting list")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("No-show")


AUDIENCE_FILTERS = {
    Audience.CONFIRMED: Q(status=Registration.Status.CONFIRMED),
    Audience.HELD: Q(status=Registration.Status.HELD),
    Audience.WAITLISTED: Q(status=Registration.Status.WAITLISTED),
    Audience.CHECKED_IN: Q(status=Registration.Status.CONFIRMED, checked_in_at__isnull=False),
    Audience.NO_SHOW: Q(status=Registration.Status.CONFIRMED, no_show_at__isnull=False),
}


class MailingQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="event__series", roles=roles)


class Mailing(models.Model):
    """A message an organizer writes to (some of) a talk's registrants; kept as its history once sent."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="mailings", verbose_name=_("talk"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("message"),
        max_length=10000,
        help_text=_("Plain text. Each recipient's email starts with their name and ends with their own link."),
    )
    audience = models.JSONField(_("to"), default=list, help_text=_("Registrants chosen by status."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("written by")
    )
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("sent by")
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, blank=True)

    objects = MailingQuerySet.as_manager()

    class Meta:
        verbose_name = _("message to registrants")
        verbose_name_plural = _("messages to registrants")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(recipient_count__isnull=False), name="mailing_sent_has_count"
            ),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("admin:mailings_mailing_change", args=[self.pk])

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def recipients(self):
        """The registrations this message goes to now: the chosen statuses, never cancelled or erased ones."""
        condition = Q(pk__in=[])
        for audience in self.audience:
            condition |= AUDIENCE_FILTERS.get(audience, Q(pk__in=[]))
        return (
            Registration.objects.filter(event_id=self.event_id, erased_at__isnull=True)
            .exclude(status=Registration.Status.CANCELLED)
            .filter(condition)
            .order_by("created_at", "pk")
        )

"""What attendees said of a talk: a rating from 1 to 5 and an optional comment, one answer per registration."""

from django.core import signing
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import scope_to_series
from registrations.models import Registration

# The signed link in the feedback email: it answers for one registration and does nothing else.
ANSWER_LINK_SALT = "feedback.answer"


class Rating(models.IntegerChoices):
    POOR = 1, _("1 – Poor")
    FAIR = 2, _("2 – Fair")
    GOOD = 3, _("3 – Good")
    VERY_GOOD = 4, _("4 – Very good")
    EXCELLENT = 5, _("5 – Excellent")


class FeedbackQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="registration__event__series", roles=roles)

    def of_event(self, event):
        return self.filter(registration__event=event)


class Feedback(models.Model):
    """One attendee's answer about one talk. Answering again replaces it; organizers never see who answered."""

    registration = models.ForeignKey(
        Registration, models.CASCADE, related_name="feedback", verbose_name=_("registration")
    )
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("answered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["registration", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["registration"], name="feedback_one_per_registration"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_to_5"),
        ]

    def __str__(self):
        return _("%(rating)s of 5") % {"rating": self.rating}

    def get_absolute_url(self):
        return answer_path(self.registration)


def answer_token(registration: Registration) -> str:
    return signing.Signer(salt=ANSWER_LINK_SALT).sign(registration.key)


def answer_path(registration: Registration) -> str:
    return reverse("feedback:answer", kwargs={"token": answer_token(registration)})

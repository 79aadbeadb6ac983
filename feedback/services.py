"""Asking attendees how a talk was, and recording what they answer."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from outbox import services as outbox
from registrations.models import Registration
from seminar_site.errors import DomainError

from . import emails
from .models import Feedback

# Answers are taken this long after the talk; the link then says feedback is closed.
ANSWER_WINDOW = datetime.timedelta(days=30)
# A request found due later than this (the sweeper was down) is not sent: it would come too late to mean much.
REQUEST_LATE_LIMIT = datetime.timedelta(days=2)


class FeedbackError(DomainError):
    """A feedback rule said no: `message` is written for the attendee."""


def request_time(event: Event) -> datetime.datetime:
    """When the attendees of `event` are asked: FEEDBACK_AFTER after its end."""
    return event.end + settings.FEEDBACK_AFTER


def check_may_answer(*, registration: Registration, now=None) -> None:
    """Raise FeedbackError unless `registration` may answer now.

    Codes: "not_attended" (neither checked in nor attending online: the link
    is for people who were there), "off" (the series stopped asking),
    "cancelled" (the talk was cancelled), "not_over" (it has not ended),
    "closed" (more than ANSWER_WINDOW after it ended).
    """
    now = now or timezone.now()
    event = registration.event
    if not Registration.objects.filter(pk=registration.pk).attended().exists():
        raise FeedbackError(_("Only people who attended the talk can rate it."), code="not_attended")
    if not event.series.ask_for_feedback:
        raise FeedbackError(_("The organizers no longer collect feedback on this talk."), code="off")
    if event.is_cancelled:
        raise FeedbackError(_("This talk was cancelled."), code="cancelled")
    if not event.is_past(now):
        raise FeedbackError(_("You can rate the talk once it is over."), code="not_over")
    if now > event.end + ANSWER_WINDOW:
        raise FeedbackError(_("Feedback on this talk is closed."), code="closed")


def record_feedback(*, registration: Registration, rating: int, comment: str = "", now=None) -> tuple[Feedback, bool]:
    """Record `registration`'s answer: `rating` (1 to 5) and an optional `comment`. Returns (answer, created).

    One answer per registration (a database constraint): answering again
    replaces the rating and the comment, and two answers at once leave one.
    Raises FeedbackError as `check_may_answer` does.
    """
    check_may_answer(registration=registration, now=now)
    with transaction.atomic():
        answer, created = Feedback.objects.update_or_create(
            registration=registration, defaults={"rating": rating, "comment": comment.strip()}
        )
    return answer, created


def queue_due_feedback_requests(*, now=None) -> int:
    """Queue the feedback email to every attendee of every talk whose request time has come; return how many.

    Run by `manage.py send_queued_mail` before every sweep. Once per
    registration (the outbox's once-key), only for talks of series that ask
    for feedback, not cancelled, whose request time (FEEDBACK_AFTER after the
    end) came less than REQUEST_LATE_LIMIT ago; erased registrations get nothing.
    """
    now = now or timezone.now()
    after = settings.FEEDBACK_AFTER
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        series__ask_for_feedback=True,
        end__lte=now - after,
        end__gt=now - after - REQUEST_LATE_LIMIT,
    )
    queued = 0
    for event in events:
        registrations = (
            Registration.objects.filter(event=event, erased_at__isnull=True)
            .attended()
            .exclude(Exists(emails.requests_sent()))
            .order_by("pk")
        )
        with transaction.atomic():
            for registration in registrations:
                # None: another sweep queued it a moment ago (the outbox's once-key constraint).
                mail = outbox.queue_mail(
                    kind=emails.REQUEST, to=registration.email, about=registration, once_key=emails.REQUEST_ONCE_KEY
                )
                queued += mail is not None
    return queued

"""Sending a message to registrants: once per recipient, through the outbox."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outbox import services as outbox
from seminar_site.errors import DomainError

from . import emails
from .models import Mailing


class MailingError(DomainError):
    """A mailing rule said no: `message` is written for the organizer."""


def send_mailing(*, mailing: Mailing, actor) -> int:
    """Queue `mailing` to each of its recipients, once; return how many messages were queued now.

    Each message goes through the outbox (at most once, retried, bounce-aware,
    after commit). Sending twice (a double click, a retried request) queues
    nothing more: the mailing row is locked and marked sent in the same
    transaction, and the outbox's once-per-key constraint allows one message
    per recipient per mailing whatever happens. Cancelled and erased
    registrations get nothing (see `Mailing.recipients`; the outbox checks again
    when it sends).

    Raises MailingError ("no_audience") when no status was chosen, and
    ("no_recipients") when nobody has a chosen status now: the message then
    stays unsent, to be sent once somebody has.
    """
    if not mailing.audience:
        raise MailingError(_("Choose who the message goes to."), code="no_audience")
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if locked.sent_at is not None:
            mailing.sent_at, mailing.recipient_count = locked.sent_at, locked.recipient_count
            return 0
        recipients = list(locked.recipients())
        if not recipients:
            raise MailingError(
                _("Nobody has the chosen status right now: nothing was sent, and the message is kept unsent."),
                code="no_recipients",
            )
        queued = 0
        for registration in recipients:
            mail = outbox.queue_mail(
                kind=emails.MESSAGE,
                to=registration.email,
                about=registration,
                once_key=emails.once_key(locked),
                data={"mailing": locked.pk},
            )
            queued += mail is not None
        now = timezone.now()
        Mailing.objects.filter(pk=locked.pk).update(sent_at=now, sent_by=actor, recipient_count=queued)
    mailing.sent_at, mailing.sent_by, mailing.recipient_count = now, actor, queued
    return queued


def send_test(*, mailing: Mailing, to: str, actor) -> None:
    """Send the organizer `to` a copy of `mailing` as its first recipient would get it, marked as a test.

    Nobody else gets anything. Raises MailingError ("no_address") when `to` is empty.
    """
    if not to:
        raise MailingError(_("Your account has no email address to send the test to."), code="no_address")
    first = mailing.recipients().first()
    with transaction.atomic():
        outbox.queue_mail(kind=emails.TEST, to=to, about=mailing, data={"as": first.pk if first else None})

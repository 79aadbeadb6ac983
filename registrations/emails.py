"""The messages of the outbox: subject, text and HTML bodies, and the invite.

Everything is rendered when the message is sent, not when it is queued, so a
retried or late message shows the talk as it is then.
"""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.template.loader import render_to_string
from django.utils import formats

from events.ical import single_line, site_host

from . import invites
from .models import OutgoingMail, Registration

Kind = OutgoingMail.Kind

SUBJECTS = {
    Kind.CONFIRMATION: "Registered: {title} ({when})",
    Kind.WAITLISTED: "Waiting list: {title} ({when})",
    Kind.PROMOTED: "A seat opened up: you are registered for {title} ({when})",
    Kind.CANCELLATION: "Registration cancelled: {title} ({when})",
    Kind.EVENT_CHANGED: "Updated time or place: {title} ({when})",
    Kind.EVENT_CANCELLED: "Talk cancelled: {title} ({when})",
    Kind.REMINDER: "Reminder: {title} ({when})",
    Kind.RESEND: "Your registration: {title} ({when})",
}


def invite_method(*, kind: str, registration: Registration) -> str | None:
    """REQUEST, CANCEL or None (no invite) for this kind of message, right now."""
    if kind in (Kind.CONFIRMATION, Kind.PROMOTED, Kind.EVENT_CHANGED):
        return invites.REQUEST
    if kind == Kind.RESEND:
        return invites.REQUEST if registration.status == Registration.Status.CONFIRMED else None
    if kind in (Kind.CANCELLATION, Kind.EVENT_CANCELLED):
        # Only someone who holds (or is about to get) the talk in a calendar
        # needs it removed; a waiting-list entry never had an invite.
        had_invite = registration.invite_sequence > 0 or registration.status == Registration.Status.CONFIRMED
        return invites.CANCEL if had_invite else None
    return None


def mailbox(name: str, address: str) -> str:
    # Header values may not hold line breaks: a name is folded to one line and
    # quoted (or encoded) by formataddr, so it can never add a recipient.
    return formataddr((single_line(name), address))


def when_text(event) -> str:
    return formats.date_format(event.local_start, "D j M Y, g:i A T")


def build_message(*, mail: OutgoingMail, sequence: int | None) -> EmailMultiAlternatives:
    """The email for `mail`; `sequence` is the invite SEQUENCE when an invite goes with it."""
    registration = mail.registration
    event = registration.event
    series = event.series
    method = invite_method(kind=mail.kind, registration=registration)
    context = {
        "registration": registration,
        "event": event,
        "series": series,
        "site_url": settings.SITE_URL,
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "manage_url": registration.manage_url,
        "when": when_text(event),
        "local_end": event.local_end,
        "waitlist_position": registration.waitlist_position(),
        "speakers": list(event.speakers.all()),
        "has_invite": method is not None,
        "invite_cancels": method == invites.CANCEL,
    }
    subject = single_line(SUBJECTS[mail.kind].format(title=event.title, when=context["when"]))
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{mail.kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mailbox(registration.name, registration.email)],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        headers={
            "Message-ID": make_msgid(idstring=f"outbox{mail.pk}", domain=site_host()),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"emails/{mail.kind}.html", context), "text/html")
    if method is not None:
        ics = invites.build_invite(registration=registration, method=method, sequence=sequence)
        message.attach(invites.invite_part(ics, method=method))
    return message

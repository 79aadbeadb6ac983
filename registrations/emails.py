"""The messages registrations sends: subject, text and HTML bodies, and the invite.

Built by the outbox when a message is sent (registered in apps.py), not when
it is queued, so a retried or late message shows the talk as it is then.
"""

from django.conf import settings
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import formats

from outbox.compose import CalendarInvite, compose, mailbox

from . import invites
from .mail import registration_of
from .models import MailKind, Registration

SUBJECTS = {
    MailKind.CONFIRMATION: "Registered: {title} ({when})",
    MailKind.WAITLISTED: "Waiting list: {title} ({when})",
    MailKind.PROMOTED: "A seat opened up: you are registered for {title} ({when})",
    MailKind.CANCELLATION: "Registration cancelled: {title} ({when})",
    MailKind.EVENT_CHANGED: "Updated time or place: {title} ({when})",
    MailKind.EVENT_CANCELLED: "Talk cancelled: {title} ({when})",
    MailKind.REMINDER: "Reminder: {title} ({when})",
    MailKind.RESEND: "Your registration: {title} ({when})",
}

# Template names: the kind without the app's prefix.
TEMPLATES = {kind: kind.value.removeprefix("registrations.") for kind in MailKind}


def invite_method(*, kind: str, registration: Registration) -> str | None:
    """REQUEST, CANCEL or None (no invite) for this kind of message, right now."""
    if kind in (MailKind.CONFIRMATION, MailKind.PROMOTED, MailKind.EVENT_CHANGED):
        return invites.REQUEST
    if kind == MailKind.RESEND:
        return invites.REQUEST if registration.status == Registration.Status.CONFIRMED else None
    if kind in (MailKind.CANCELLATION, MailKind.EVENT_CANCELLED):
        # Only someone who holds (or is about to get) the talk in a calendar
        # needs it removed; a waiting-list entry never had an invite.
        had_invite = registration.invite_sequence > 0 or registration.status == Registration.Status.CONFIRMED
        return invites.CANCEL if had_invite else None
    return None


def when_text(event) -> str:
    return formats.date_format(event.local_start, "D j M Y, g:i A T")


def build_message(mail):
    """The email for outbox row `mail` (runs inside the outbox's claiming transaction)."""
    registration = registration_of(mail)
    event = registration.event
    series = event.series
    kind = MailKind(mail.kind)
    method = invite_method(kind=kind, registration=registration)
    sequence = None
    if method is not None:
        # The UPDATE locks the registration until the claim commits, so
        # concurrent invites for one registrant get distinct, rising numbers
        # and the higher number always describes the later state of the talk.
        Registration.objects.filter(pk=registration.pk).update(invite_sequence=F("invite_sequence") + 1)
        registration.refresh_from_db(fields=["invite_sequence"])
        sequence = registration.invite_sequence
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
    template = TEMPLATES[kind]
    invite = None
    if method is not None:
        invite = CalendarInvite(
            ics=invites.build_invite(registration=registration, method=method, sequence=sequence), method=method
        )
    return compose(
        to=[mailbox(registration.name, registration.email)],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        subject=SUBJECTS[kind].format(title=event.title, when=context["when"]),
        text=render_to_string(f"emails/{template}.txt", context),
        html=render_to_string(f"emails/{template}.html", context),
        invite=invite,
    )

"""The messages registrations sends: subject, text and HTML bodies, and the invite.

Built by the outbox when a message is sent (registered in apps.py), not when
it is queued, so a retried or late message shows the talk as it is then, with
the registrant's current invite SEQUENCE (see invites.py).
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event
from events.when import SHORT, deadline_text, moment_text, talk_when
from outbox.compose import CalendarInvite, compose, mailbox
from seminar_site.i18n import in_language

from . import invites, tickets
from .mail import past_talks_listed, registration_of
from .models import MailKind, Registration

TIME_AND_PLACE = Event.TIME_AND_PLACE_FIELDS

SUBJECTS = {
    MailKind.CONFIRMATION: _("Registered: {title} ({when})"),
    MailKind.WAITLISTED: _("Waiting list: {title} ({when})"),
    MailKind.PROMOTED: _("A seat opened up: you are registered for {title} ({when})"),
    MailKind.CANCELLATION: _("Registration cancelled: {title} ({when})"),
    MailKind.EVENT_CHANGED: _("Updated time or place: {title} ({when})"),
    MailKind.EVENT_CANCELLED: _("Talk cancelled: {title} ({when})"),
    MailKind.REMINDER: _("Reminder: {title} ({when})"),
    MailKind.RESEND: _("Your registration: {title} ({when})"),
    MailKind.STREAM_LINK: _("Link to join online: {title} ({when})"),
    MailKind.HELD: _("Confirm by {deadline} to keep your seat: {title} ({when})"),
    MailKind.OFFER: _("A seat is free for you until {deadline}: {title} ({when})"),
    MailKind.PAST_TALKS: _("Your links to past talks"),
    MailKind.ATTENDANCE_SWITCHED: _("You now attend in person: {title} ({when})"),
    MailKind.EVENT_REINSTATED: _("On again: {title} ({when})"),
}

TICKET_KINDS = (
    MailKind.CONFIRMATION,
    MailKind.PROMOTED,
    MailKind.REMINDER,
    MailKind.RESEND,
    MailKind.ATTENDANCE_SWITCHED,
    MailKind.EVENT_REINSTATED,
)

# Template names: the kind without the app's prefix.
TEMPLATES = {kind: kind.value.removeprefix("registrations.") for kind in MailKind}


def invite_method(*, mail, registration: Registration) -> str | None:
    """REQUEST, CANCEL or None (no invite) for outbox row `mail`, right now."""
    kind = mail.kind
    if kind == MailKind.EVENT_CHANGED:
        # Someone on the waiting list is told of a new time or place, without a calendar entry. Decided when queued.
        return invites.REQUEST if mail.data.get("invite", True) else None
    if kind in (
        MailKind.CONFIRMATION,
        MailKind.PROMOTED,
        MailKind.STREAM_LINK,
        MailKind.ATTENDANCE_SWITCHED,
    ):
        return invites.REQUEST
    if kind == MailKind.RESEND:
        return invites.REQUEST if registration.status == Registration.Status.CONFIRMED else None
    if kind == MailKind.EVENT_REINSTATED:
        # The calendar entry its cancelling invite removed comes back; nobody else had one. Decided when queued.
        return invites.REQUEST if mail.data.get("invite") else None
    if kind in (MailKind.CANCELLATION, MailKind.EVENT_CANCELLED):
        # Only someone who held the talk in a calendar needs it removed; a
        # waiting-list entry never had an invite. Decided when queued.
        return invites.CANCEL if mail.data.get("cancels_invite") else None
    return None


def online_context(registration, now=None) -> dict:
    """What an email says about joining online: the link once the registrant may see it, else from when."""
    event = registration.event
    online = registration.is_online and registration.status == Registration.Status.CONFIRMED
    revealed = online and registration.sees_stream(now)
    return {
        "attends_online": registration.is_online,
        "stream_url": event.stream_url if revealed else "",
        "stream_reveal_text": moment_text(event, event.stream_reveal_at)
        if online and not revealed and event.stream_url and event.stream_reveal_at
        else "",
    }


def subject(mail, event, registration=None, now=None) -> str:
    template = SUBJECTS[mail.kind]
    if mail.kind == MailKind.EVENT_CHANGED and not set(mail.data.get("changed", ["start"])) & set(TIME_AND_PLACE):
        template = _("Updated: {title} ({when})")
    if mail.kind == MailKind.STREAM_LINK and mail.data.get("link_changed"):
        template = _("New link to join online: {title} ({when})")
    if mail.kind == MailKind.ATTENDANCE_SWITCHED and registration.is_online:
        template = _("You now attend online: {title} ({when})")
    if mail.kind == MailKind.HELD and registration.status == Registration.Status.WAITLISTED:
        template = _("Confirm by {deadline} to keep your place on the waiting list: {title} ({when})")
    deadline = deadline_text(event, registration.hold_until, now=now or timezone.now()) if registration else ""
    return str(template).format(title=event.title, when=talk_when(event, style=SHORT), deadline=deadline)


def build_message(mail):
    """The email for outbox row `mail` (runs inside the outbox's claiming transaction).

    Written in the registrant's language, whoever caused the message.
    """
    registration = registration_of(mail)
    with in_language(registration.language):
        return _build_message(mail, registration)


def hold_context(registration, now) -> dict:
    """What an email says about a place that waits for its confirmation: until when, why, the button."""
    event = registration.event
    held = registration.awaits_confirmation
    return {
        "awaits_confirmation": held,
        "is_offer": registration.is_offer,
        "hold_until": deadline_text(event, registration.hold_until, now=now),
        "hold_until_long": moment_text(event, registration.hold_until),
        "hold_explanation": registration.hold_explanation,
        "keep_url": registration.keep_seat_url if held else "",
    }


def _build_message(mail, registration):
    event = registration.event
    series = event.series
    kind = MailKind(mail.kind)
    now = timezone.now()
    method = invite_method(mail=mail, registration=registration)
    changed = set(mail.data.get("changed", ["start"]))
    context = {
        "registration": registration,
        "event": event,
        "series": series,
        "site_url": settings.SITE_URL,
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "manage_url": registration.manage_url,
        "when": talk_when(event, style=SHORT),
        "when_long": talk_when(event),
        "waitlist_position": registration.waitlist_position(),
        "speakers": list(event.speakers.all()),
        "has_invite": method is not None,
        "invite_cancels": method == invites.CANCEL,
        "invite_url": registration.invite_url,
        "time_or_place_changed": bool(changed & set(TIME_AND_PLACE)),
        **online_context(registration),
        "link_changed": bool(mail.data.get("link_changed")),
        **hold_context(registration, now),
        "promoted": bool(mail.data.get("promoted")),
        "free_url": registration.free_seat_url,
        # The organizers' word on a cancellation, as it was when they cancelled (see notify_event_cancelled).
        "cancellation_note": mail.data.get("note", "") if kind == MailKind.EVENT_CANCELLED else "",
    }
    # An update that brings a new stream link too (one email for one save of the talk), to whoever may see it.
    context["tells_new_link"] = bool(
        kind == MailKind.EVENT_CHANGED and changed & set(Event.STREAM_FIELDS) and context["stream_url"]
    )
    # The ticket (QR code of the check-in link) goes with every message that says "you have a seat".
    ticket = None
    if kind in TICKET_KINDS and registration.has_ticket:
        ticket = tickets.checkin_qr_image(registration)
    context |= {"ticket": ticket, "checkin_url": registration.checkin_url if ticket else ""}
    if kind == MailKind.PAST_TALKS:
        context["past_talks"] = [
            {"title": listed.event.title, "when": talk_when(listed.event), "url": listed.manage_url}
            for listed in past_talks_listed(mail)
        ]
    template = TEMPLATES[kind]
    invite = None
    if method is not None:
        invite = CalendarInvite(ics=invites.build_invite(registration=registration, method=method), method=method)
    return compose(
        to=[mailbox(registration.name, registration.email)],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        subject=subject(mail, event, registration, now),
        text=render_to_string(f"emails/{template}.txt", context),
        html=render_to_string(f"emails/{template}.html", context),
        invite=invite,
        images=[ticket] if ticket else [],
    )

"""Email about registrations beyond the seat changes: talk updates and cancellations, reminders,
lost links, bounces."""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.models import Event
from outbox.models import OutgoingMail
from seminar_site.addresses import ascii_address

from ..mail import queue, reminders_sent
from ..models import MailKind, Registration, RegistrationLog
from .base import log_action

# The past talks one "lost link" message lists, newest first: a regular of the series gets one
# message with their recent talks, not one per talk they ever attended.
PAST_TALKS_IN_ONE_MESSAGE = 20


def resend_links(*, email: str, now=None) -> int:
    """Queue the self-service links of `email` again: one message per upcoming talk, one for past talks.

    For the "Lost your link?" page. The address is compared trimmed,
    case-insensitively and with its domain in ASCII, as `register` stores it;
    erased registrations and talks that are cancelled are left out. Each
    active registration to a talk not yet over gets its own RESEND message
    (the outbox drops one when its confirmation went out within
    RESEND_INTERVAL). Registrations with a seat at talks that are over (where
    the registrant's page holds the materials meant for them) get one
    PAST_TALKS message together, listing the newest PAST_TALKS_IN_ONE_MESSAGE,
    also dropped when one went out within RESEND_INTERVAL. Returns the number
    of messages queued, which the caller must not show: the page never tells
    whether an address is registered. Raises nothing.
    """
    email = ascii_address((email or "").strip())
    if not email:
        return 0
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        of_address = (
            Registration.objects.filter(event__status=Event.Status.PUBLISHED, erased_at__isnull=True)
            .alias(email_lower=Lower("email"))
            .filter(email_lower=Lower(Value(email)))
        )
        for registration in of_address.active().filter(event__end__gt=now).order_by("event__start", "pk"):
            if queue(registration=registration, kind=MailKind.RESEND) is not None:
                log_action(
                    registration,
                    RegistrationLog.Action.CONFIRMATION_RESENT,
                    from_status=registration.status,
                    note=_("Asked for the link again."),
                )
                queued += 1
        past = list(
            of_address.confirmed()
            .filter(event__end__lte=now)
            .order_by("-event__start", "-pk")[:PAST_TALKS_IN_ONE_MESSAGE]
        )
        # About the newest: the message is written in the language they last registered in.
        if past and queue(registration=past[0], kind=MailKind.PAST_TALKS, data={"listed": [r.pk for r in past]}):
            for registration in past:
                log_action(
                    registration,
                    RegistrationLog.Action.LINK_RESENT,
                    from_status=registration.status,
                    note=_("Asked for the links to past talks."),
                )
            queued += 1
    return queued


def update_wanted_by_default(changed_fields) -> bool:
    """The rule calendar apps follow: a new time or place is sent to registrants, new wording is not."""
    return bool(set(changed_fields) & set(Event.TIME_AND_PLACE_FIELDS))


def announce_talk_changes(
    *, event: Event, changed_fields, send_update: bool | None = None, link_changed: bool = False, actor=None
) -> int:
    """Tell `event`'s registrants what one save of it changed, in one email each at most; return how many.

    `changed_fields` names what changed (Event.TIME_AND_PLACE_FIELDS,
    Event.TEXT_FIELDS, Event.STREAM_FIELDS); `send_update` is the organizer's
    answer to "send an update?", None for the rule of changes nobody was asked
    about (update_wanted_by_default). With an update, registrants attending
    online read a new link in it (send_event_update); without one, a new link
    still goes to them alone (send_stream_link). Two emails for one save would
    carry invites of the same SEQUENCE (each is built when it goes out, with
    the number as it is then), which calendars treat inconsistently.
    `link_changed`: the link replaces another (rather than being the first).

    Precondition: the change to `event` is committed. Raises nothing of its own.
    """
    from .online import send_stream_link  # online.py imports seats.py, which imports this module

    changed = set(changed_fields)
    if send_update is None:
        send_update = update_wanted_by_default(changed)
    if send_update and changed - set(Event.STREAM_FIELDS):
        return send_event_update(event=event, changed_fields=changed, link_changed=link_changed, actor=actor)
    if changed & set(Event.STREAM_FIELDS):
        return send_stream_link(event=event, link_changed=link_changed, actor=actor)
    return 0


# What a history entry says an update told the registrant, in the order an email tells it.
UPDATE_NOTES = (
    (("start", "end"), gettext_lazy("new time")),
    (("venue",), gettext_lazy("new place")),
    (("title",), gettext_lazy("new title")),
    (("speakers",), gettext_lazy("new speakers")),
    (("abstract",), gettext_lazy("new abstract")),
    (Event.STREAM_FIELDS, gettext_lazy("new link to join online")),
)


def update_note(changed_fields) -> str:
    """What an update told, for people: "New time, new place", in the language active now."""
    changed = set(changed_fields)
    return capfirst(", ".join(str(label) for fields, label in UPDATE_NOTES if changed & set(fields)))


def send_event_update(*, event: Event, changed_fields=frozenset(), link_changed: bool = False, actor=None) -> int:
    """Send every confirmed registrant of `event` an update of their invite; return how many.

    Each gets an EVENT_CHANGED email whose invite carries a SEQUENCE one
    higher than the last they were sent, so calendars replace the entry with
    the talk as it is when the email goes out. A new time or place also goes
    to the waiting list, without an invite (not counted). `changed_fields` (names from
    Event.TIME_AND_PLACE_FIELDS, Event.TEXT_FIELDS and Event.STREAM_FIELDS) picks the
    wording: a new time or place, or new details; and, to those attending online who
    may see it, the new link (`link_changed`: it replaces another). Whether to call
    this is the caller's decision (the event admin asks the organizer;
    update_wanted_by_default is the rule for changes nobody was asked about).

    Precondition: the change to `event` is committed. Raises nothing of its own.
    """
    changed = sorted(set(changed_fields)) or list(Event.TIME_AND_PLACE_FIELDS)
    without_link = [name for name in changed if name not in Event.STREAM_FIELDS]
    link_seen = event.stream_revealed()
    with transaction.atomic():
        registrations = Registration.objects.filter(event=event).confirmed()
        Registration.objects.filter(pk__in=registrations.values("pk")).update(invite_sequence=F("invite_sequence") + 1)
        registrations = list(registrations.select_for_update())
        for registration in registrations:
            # Only those who may see the link hear of it: in the email, and in their history.
            told = changed if registration.is_online and link_seen else without_link
            queue(
                registration=registration,
                kind=MailKind.EVENT_CHANGED,
                data={"changed": told, "link_changed": link_changed},
            )
            log_action(
                registration,
                RegistrationLog.Action.UPDATE_SENT,
                from_status=registration.status,
                actor=actor,
                note=update_note(told),
            )
        if set(changed) & set(Event.TIME_AND_PLACE_FIELDS):
            # Those waiting for a seat have no calendar entry, but plan on the time and place they were given.
            for registration in Registration.objects.filter(event=event).waitlisted():
                queue(
                    registration=registration,
                    kind=MailKind.EVENT_CHANGED,
                    data={"changed": without_link, "invite": False},
                )
    return len(registrations)


def cancel_invites(registrations, had_invites: bool = True) -> None:
    # A cancelling invite must outrank the last invite sent.
    if had_invites:
        registrations.update(invite_sequence=F("invite_sequence") + 1)


def notify_event_cancelled(*, event: Event) -> int:
    """Queue an EVENT_CANCELLED email to everyone still registered, confirmed or waiting.

    Confirmed registrants' emails carry a cancelling invite; every email carries
    the organizers' note (`event.cancellation_note`) as it is now, so a message
    sent late or again says what the organizer confirmed. Precondition: the
    cancellation is committed. Returns the number queued.
    """
    with transaction.atomic():
        cancel_invites(Registration.objects.filter(event=event).confirmed())
        registrations = list(Registration.objects.filter(event=event).active())
        for registration in registrations:
            queue(
                registration=registration,
                kind=MailKind.EVENT_CANCELLED,
                data={
                    "cancels_invite": registration.status == Registration.Status.CONFIRMED,
                    "note": event.cancellation_note,
                },
            )
            log_action(registration, RegistrationLog.Action.TALK_CANCELLED, from_status=registration.status)
    return len(registrations)


def notify_event_reinstated(*, event: Event) -> int:
    """Tell everyone still registered that the cancelled talk is on again; then fill its free seats.

    Confirmed registrants get an EVENT_REINSTATED email with an invite that
    outranks the cancelling one; held and waiting registrants get it without
    one (their place is as it was). Seats that came free while the talk was
    cancelled (a capacity raised meanwhile) then go to the waiting list in
    order, before any newcomer. Precondition: the talk is published again and
    that is committed. Returns the number of emails queued.
    """
    with transaction.atomic():
        confirmed = Registration.objects.filter(event=event).confirmed()
        Registration.objects.filter(pk__in=confirmed.values("pk")).update(invite_sequence=F("invite_sequence") + 1)
        registrations = list(Registration.objects.filter(event=event).active().select_for_update())
        for registration in registrations:
            queue(
                registration=registration,
                kind=MailKind.EVENT_REINSTATED,
                data={"invite": registration.status == Registration.Status.CONFIRMED},
            )
            log_action(registration, RegistrationLog.Action.TALK_ON_AGAIN, from_status=registration.status)
    if not event.is_past():
        from .seats import promote_waitlist  # seats.py imports this module

        promote_waitlist(event=event)
    return len(registrations)


def reminder_time(event: Event):
    return event.start - settings.REMINDER_BEFORE


def queue_due_reminders(*, now=None) -> int:
    """Queue the reminder for every published talk whose reminder time has come.

    Once per confirmed registrant and talk start (a talk that moves gets a new
    reminder for its new time), never after the talk started, and not to people
    who registered after the reminder time: their confirmation is fresh. Each one
    queued writes a REMINDER_SENT history entry in the same transaction. Safe to
    run concurrently: a unique constraint drops a second copy (and its entry).
    Returns the number queued.
    """
    now = now or timezone.now()
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, start__gt=now, start__lte=now + settings.REMINDER_BEFORE
    )
    queued = 0
    for event in events:
        registrations = (
            Registration.objects.filter(event=event, created_at__lte=reminder_time(event))
            .confirmed()
            .exclude(Exists(reminders_sent(event.start)))
        )
        for registration in registrations:
            # One transaction per reminder: its history entry exists exactly when it does.
            with transaction.atomic():
                # None: another sweep queued it a moment ago (the outbox's once-key constraint).
                if queue(registration=registration, kind=MailKind.REMINDER, reminder_for=event.start) is None:
                    continue
                log_action(registration, RegistrationLog.Action.REMINDER_SENT, from_status=registration.status)
            queued += 1
    return queued


def mark_email_bounced(*, mail: OutgoingMail, event_type: str, description: str = "") -> Registration:
    """Flag the registration that outbox message `mail` went to: the provider reported a bounce.

    Called by the outbox (signals.mail_bounced) for each report. The first
    bounce is kept; later ones only add history entries.
    """
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=mail.about_id)
        if registration.email_bounced_at is None:
            registration.email_bounced_at = timezone.now()
            registration.save(update_fields=["email_bounced_at"])
        log_action(
            registration,
            RegistrationLog.Action.EMAIL_BOUNCED,
            from_status=registration.status,
            note=f"{mail.kind_label}: {event_type}. {description}".strip()[:500],
        )
    return registration


def log_email_failed(*, mail: OutgoingMail) -> None:
    """Record in the registration's history that outbox message `mail` failed for good."""
    registration = Registration.objects.get(pk=mail.about_id)
    log_action(
        registration,
        RegistrationLog.Action.EMAIL_FAILED,
        from_status=registration.status,
        note=f"{mail.kind_label}: {mail.last_error}",
    )

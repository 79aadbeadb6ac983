"""What registrations sends through the outbox, and whether it is still wanted when it goes out.

Messages are queued here (in the transaction of the change they report) and
built by emails.py when the outbox sends them; both are registered with the
outbox in apps.py, one kind per MailKind.
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event
from outbox import services as outbox
from outbox.models import OutgoingMail

from .models import MailKind, Registration

# A re-send of the confirmation asked for by registering again goes out at
# most once in this interval (counting the confirmation itself).
RESEND_INTERVAL = datetime.timedelta(minutes=10)
# Why a message to an erased registration is not sent (services.erase_personal_data).
ERASED_REASON = _("The registrant's personal data was erased before this message went out.")


def reminder_key(start: datetime.datetime) -> str:
    """A reminder is sent once per registration and talk start: a talk that moves gets one for its new time."""
    return start.astimezone(datetime.UTC).isoformat()


def queue(
    *,
    registration: Registration,
    kind: str,
    reminder_for: datetime.datetime | None = None,
    data: dict | None = None,
    once_key: str = "",
):
    """Queue one message of `kind` to `registration`, in the current transaction.

    Returns None, queueing nothing, when a RESEND is suppressed because the
    registrant was sent (or is about to be sent) their confirmation within
    RESEND_INTERVAL, when a PAST_TALKS message about the same registration
    was, or when the reminder for `reminder_for` exists already.
    """
    if kind == MailKind.RESEND and _sent_recently(registration, RESEND_COUNTS):
        return None
    if kind == MailKind.PAST_TALKS and _sent_recently(registration, [MailKind.PAST_TALKS]):
        return None
    if kind == MailKind.REMINDER:
        once_key = reminder_key(reminder_for)
    return outbox.queue_mail(kind=kind, to=registration.email, about=registration, once_key=once_key, data=data)


def hold_key(registration: Registration) -> str:
    """A hold's message goes once per state and deadline (a waiting-list place that becomes a held seat: again)."""
    return f"{registration.status}:{registration.hold_until.astimezone(datetime.UTC).isoformat()}"


def queue_hold(*, registration: Registration, kind: str = MailKind.HELD, promoted: bool = False):
    """Queue the message with the button that confirms `registration`'s hold (or takes its offered seat).

    `promoted`: the seat was freed for them on the waiting list (the message says so).
    """
    data = {"promoted": True} if promoted else None
    return queue(registration=registration, kind=kind, once_key=hold_key(registration), data=data)


def first_message(registration: Registration) -> OutgoingMail:
    """The message a registration being created is sent, by its status, not yet written.

    The confirmation, the button that keeps a held place, or the waiting list's
    message. services/signup.py writes it with the registration (and then calls
    outbox.written); a hold's key cannot be taken yet, the registration being new.
    """
    if registration.status == Registration.Status.CONFIRMED:
        kind, once_key = MailKind.CONFIRMATION, ""
    elif registration.awaits_confirmation:
        kind, once_key = MailKind.HELD, hold_key(registration)
    else:
        kind, once_key = MailKind.WAITLISTED, ""
    return outbox.new_mail(kind=kind, to=registration.email, about=registration, once_key=once_key)


def mails_about(registrations):
    """The outbox rows about `registrations` (a QuerySet of Registration)."""
    return OutgoingMail.objects.about(registrations)


def stream_reveal_key(reveal_at: datetime.datetime) -> str:
    """The link is sent once per registration and reveal time (a talk that moves reveals it again)."""
    return "reveal:" + reveal_at.astimezone(datetime.UTC).isoformat()


def stream_links_sent(reveal_at):
    """For Exists(): the reveal message for `reveal_at` of the registration in OuterRef("pk")."""
    return OutgoingMail.objects.filter(
        about_type=ContentType.objects.get_for_model(Registration),
        about_id=OuterRef("pk"),
        kind=MailKind.STREAM_LINK,
        once_key=stream_reveal_key(reveal_at),
    )


def reminders_sent(start):
    """For Exists(): the reminder for `start` of the registration in OuterRef("pk")."""
    return OutgoingMail.objects.filter(
        about_type=ContentType.objects.get_for_model(Registration),
        about_id=OuterRef("pk"),
        kind=MailKind.REMINDER,
        once_key=reminder_key(start),
    )


# What a RESEND would repeat: each of these carries the link to the registration.
RESEND_COUNTS = (
    MailKind.CONFIRMATION,
    MailKind.PROMOTED,
    MailKind.RESEND,
    MailKind.HELD,
    MailKind.OFFER,
    MailKind.ATTENDANCE_SWITCHED,
)


def _sent_recently(registration: Registration, kinds) -> bool:
    """Was a message of one of `kinds` about `registration` sent (or about to be) within RESEND_INTERVAL?"""
    return (
        registration.outgoing_mails.filter(kind__in=kinds, created_at__gt=timezone.now() - RESEND_INTERVAL)
        .exclude(status__in=[OutgoingMail.Status.FAILED, OutgoingMail.Status.SKIPPED])
        .exists()
    )


def registration_of(mail: OutgoingMail) -> Registration:
    """The registration `mail` is about, with its talk, loaded once per send."""
    cached = getattr(mail, "_registration", None)
    if cached is None or cached.pk != mail.about_id:
        cached = Registration.objects.select_related("event__series", "event__venue").get(pk=mail.about_id)
        mail._registration = cached
    return cached


def past_talks_listed(mail: OutgoingMail) -> list[Registration]:
    """The registrations a PAST_TALKS message lists, as they are now: with a seat, not erased; newest talk first.

    Read once per send (still_wanted, then the message, share it), with each talk's venue: its clock.
    """
    cached = getattr(mail, "_past_talks", None)
    if cached is None:
        cached = mail._past_talks = list(
            Registration.objects.confirmed()
            .filter(pk__in=mail.data.get("listed", []), erased_at__isnull=True)
            .exclude(event__status=Event.Status.CANCELLED)
            .select_related("event__venue")
            .order_by("-event__start", "-pk")
        )
    return cached


def still_wanted(mail: OutgoingMail) -> str:
    """Why `mail` should no longer go out, or "" if it should."""
    registration = registration_of(mail)
    event = registration.event
    kind = mail.kind
    if registration.erased_at is not None:
        # Its address is a placeholder now; this covers retries and "send again" too.
        return str(ERASED_REASON)
    if kind in (MailKind.CANCELLATION, MailKind.EVENT_CANCELLED):
        return ""
    if kind == MailKind.PAST_TALKS:
        if not past_talks_listed(mail):
            return str(_("None of the registrations it lists has a seat any more."))
        return ""
    if event.is_cancelled:
        return str(_("The talk was cancelled before this message went out."))
    if kind == MailKind.WAITLISTED:
        if registration.status != Registration.Status.WAITLISTED:
            return str(_("The registrant left the waiting list before this message went out."))
        return ""
    if kind == MailKind.RESEND:
        if registration.is_active:
            return ""
        return str(_("The registration was cancelled before this message went out."))
    if kind == MailKind.EVENT_REINSTATED:
        if registration.is_active:
            return ""
        return str(_("The registration was cancelled before this message went out."))
    if kind == MailKind.EVENT_CHANGED and not mail.data.get("invite", True):
        if registration.status != Registration.Status.WAITLISTED:
            # Promoted meanwhile: the promotion's own email, with its invite, has the talk as it is.
            return str(_("The registrant left the waiting list before this message went out."))
        return ""
    if kind in (MailKind.HELD, MailKind.OFFER):
        # The button is worth sending only while that very hold waits for it.
        if (
            registration.hold_until is None
            or registration.hold_until <= timezone.now()
            or mail.once_key != hold_key(registration)
        ):
            return str(_("The place was confirmed or released before this message went out."))
        return ""
    if registration.status != Registration.Status.CONFIRMED:
        return str(_("The registration is no longer confirmed."))
    if kind == MailKind.ATTENDANCE_SWITCHED and registration.attendance != mail.data.get("attendance"):
        # Switched back and forth: the later message says how they attend now, with a higher SEQUENCE.
        return str(_("The registrant switched again before this message went out."))
    if kind == MailKind.STREAM_LINK and not registration.sees_stream():
        return str(_("The registrant no longer attends online, or the link is gone."))
    if kind == MailKind.REMINDER and (mail.once_key != reminder_key(event.start) or event.has_started()):
        return str(_("The talk moved or has started since this reminder was queued."))
    return ""


def staff_scope(user, roles) -> Q:
    """The outbox rows of registrations' kinds that `user` may see: those about their series' registrations."""
    return Q(
        kind__in=MailKind.values,
        about_type=ContentType.objects.get_for_model(Registration),
        about_id__in=Registration.objects.managed_by(user, roles=roles).values("pk"),
    )

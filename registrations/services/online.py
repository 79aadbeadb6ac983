"""Attending online: switching sides, and the stream link sent to online registrants only."""

from django.db import transaction
from django.db.models import Exists, F
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event

from ..mail import queue, stream_links_sent, stream_reveal_key
from ..models import MailKind, Registration, RegistrationLog
from .base import RegistrationError, lock_event, log_action
from .seats import (
    ONLINE,
    _fill_free_seats,
    _promotes_automatically,
    _take_seats,
    check_attendance_offered,
    has_free_place,
)


def switch_attendance(*, registration: Registration, attendance: str, actor=None, now=None) -> list[Registration]:
    """Move a registration between in person and online, when the other side has a free place.

    The one-click switch of the self-service page: someone on the in-person
    waiting list (or holding a seat they can no longer use) attends online
    instead, and someone attending online takes a seat in the room once one
    is free. The registration is confirmed on its new side and told so
    (ATTENDANCE_SWITCHED, with an invite whose SEQUENCE outranks the last one
    sent, since its LOCATION changes); a seat it leaves goes to the next in
    line on that side, as a cancellation would. Returns the registrations
    promoted that way; `registration` is updated in place.

    Raises RegistrationError: "cancelled" (registration or talk cancelled),
    "ended" (the talk is over), "attendance" (the talk does not offer it),
    "same" (already attending that way), "full" (no free place there),
    "held" (the place still waits for its confirmation by email: switching
    would give a place without it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Registration.Status.CANCELLED or event.status != Event.Status.PUBLISHED:
            raise RegistrationError(_("This registration or the talk is cancelled."), code="cancelled")
        if event.is_past(now):
            raise RegistrationError(_("This talk has already taken place."), code="ended")
        check_attendance_offered(event=event, attendance=attendance)
        if current.attendance == attendance:
            raise RegistrationError(_("You already attend this way."), code="same")
        if current.awaits_confirmation:
            raise RegistrationError(
                _("Please confirm your place first, with the button in the email we sent you."), code="held"
            )
        if not has_free_place(event, attendance):
            raise RegistrationError(
                _("The online places are all taken.") if attendance == ONLINE else _("No seat in the room is free."),
                code="full",
            )
        from_attendance, from_status = current.attendance, current.status
        current.attendance, current.status = attendance, Registration.Status.CONFIRMED
        current.save(update_fields=["attendance", "status"])
        _take_seats(event.pk, 1, attendance)
        log_action(
            current,
            RegistrationLog.Action.SWITCHED,
            from_status=from_status,
            actor=actor,
            note=f"{Registration.Attendance(from_attendance).label} → {Registration.Attendance(attendance).label}",
        )
        # The invite's LOCATION changes (the room or the stream): calendars that go by SEQUENCE
        # alone keep the old place unless the number rises, as for any other change sent to them.
        Registration.objects.filter(pk=current.pk).update(invite_sequence=F("invite_sequence") + 1)
        queue(registration=current, kind=MailKind.ATTENDANCE_SWITCHED, data={"attendance": attendance})
        promoted = []
        if from_status == Registration.Status.CONFIRMED:
            _take_seats(event.pk, -1, from_attendance)
            if _promotes_automatically(event, now):
                promoted = _fill_free_seats(
                    event,
                    attendance=from_attendance,
                    actor=actor,
                    note=_("Seat freed by a switch to %(attendance)s (%(id)s).")
                    % {"attendance": Registration.Attendance(attendance).label, "id": current.pk},
                )
    registration.attendance, registration.status = current.attendance, current.status
    return promoted


def stream_link_recipients(*, event: Event):
    """Who a link given or changed now is emailed to (send_stream_link): those attending online, once it is shown."""
    if not event.stream_revealed():
        return Registration.objects.none()
    return Registration.objects.filter(event=event).confirmed().online()


def send_stream_link(*, event: Event, link_changed: bool = False, actor=None) -> int:
    """Email the stream link, with an invite that carries it, to everyone attending `event` online; return how many.

    For a link given or changed (`link_changed`) once registrants may see it:
    nobody attending in person, and nobody still waiting for an online place,
    hears of it. Does nothing before the reveal time (the sweep sends the link
    then). Each email is in the registration's history, with `actor` (who
    changed the link). Precondition: the change is committed. Raises nothing of its own.
    """
    with transaction.atomic():
        registrations = stream_link_recipients(event=event)
        Registration.objects.filter(pk__in=registrations.values("pk")).update(invite_sequence=F("invite_sequence") + 1)
        registrations = list(registrations.select_for_update())
        for registration in registrations:
            queue(registration=registration, kind=MailKind.STREAM_LINK, data={"link_changed": link_changed})
            log_action(
                registration,
                RegistrationLog.Action.STREAM_LINK_SENT,
                from_status=registration.status,
                actor=actor,
                note=_("A new link, replacing the earlier one.") if link_changed else "",
            )
    return len(registrations)


def queue_due_stream_links(*, now=None) -> int:
    """At a talk's reveal time, queue the stream link for everyone attending online; return how many.

    Only for talks that show the link some minutes before the start (with
    "at registration" every confirmation carries it). Once per registration
    and reveal time; not to people who registered after it, whose
    confirmation carries the link. Safe to run concurrently (once-key constraint).
    """
    now = now or timezone.now()
    events = (
        Event.objects.filter(status=Event.Status.PUBLISHED, stream_reveal_minutes__isnull=False, end__gt=now)
        .exclude(stream_url="")
        .exclude(attendance_mode=Event.AttendanceMode.IN_PERSON)
        .select_related("venue")
    )
    queued = 0
    for event in events:
        if not event.stream_revealed(now):
            continue
        reveal_at = event.stream_reveal_at
        registrations = (
            Registration.objects.filter(event=event, created_at__lte=reveal_at)
            .confirmed()
            .online()
            .exclude(Exists(stream_links_sent(reveal_at)))
        )
        for registration in registrations:
            with transaction.atomic():
                mail = queue(
                    registration=registration, kind=MailKind.STREAM_LINK, once_key=stream_reveal_key(reveal_at)
                )
                if mail is not None:
                    Registration.objects.filter(pk=registration.pk).update(invite_sequence=F("invite_sequence") + 1)
                    log_action(
                        registration,
                        RegistrationLog.Action.STREAM_LINK_SENT,
                        from_status=registration.status,
                        note=_("Sent when the link is shown, before the talk."),
                    )
                    queued += 1
    return queued

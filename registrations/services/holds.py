"""Held seats: a place kept for one person until they confirm by email, and seats offered near the start.

Why. Limiting sign-ups per client address turns away a lab or a campus behind one NAT (40
students, one address) and barely slows anyone with a second address or a phone. Proof of the
address does what the limit cannot: when it matters, a sign-up's seat is *held* for it and
becomes the person's own when they press the button in the email we send to the address they
typed. A script's made-up addresses never press it; their seats go back within the hold time.

What a hold is. Status HELD with a deadline (`hold_until`) and a reason (`hold_reason`). A held
seat counts against capacity from the moment it is given, in `Event.seats_taken` (or
`online_seats_taken`), under the talk's row lock and the event table's check constraints, like
any seat (services/seats.py): held + confirmed can never pass capacity. A database constraint
ties the deadline to the status. Someone who must confirm but lands on the waiting list keeps
status WAITLISTED with a deadline: the same button keeps their place, and a seat that frees up
before then is held for them until that deadline. When a sign-up is held, and until when, is
decided in one place: `registrations/hold_rules.py`.

Offers are holds too. A seat freed less than OFFER_BEFORE_HOURS before the start is offered to
the next person waiting instead of given: at such short notice many can no longer come, and a
seat given to someone who does not read their email in time stays empty. An offer is the same
HELD state with reason "offer" and its own deadline (OFFER_MINUTES, never past the start): a kept
seat counted against capacity, taken with the same button, released by the same sweep, after
which it is offered to the next person. A state of its own would have needed the same lock,
counter, constraint, expiry, lists and counts a second time; one state for "a seat kept for one
person until a deadline" keeps one set of rules, and the reason only picks the words.

Email. A held person gets the HELD message (the button, the deadline in their language on the
venue's clock), an offered one the OFFER message (take it, or pass it on). Neither carries a
calendar invite: the REQUEST comes with the confirmation once the seat is theirs, so no calendar
holds a talk its owner may not get into. Releasing sends nothing to the person released: their
email and their page said the deadline, and an address that never confirmed is the one most
likely to bounce.

Idempotence. Every change here takes the talk's lock, then re-reads the registration's status
and deadline under it: a sweeper restarted halfway, two sweepers at once, or a button pressed
twice find nothing left to do. Messages carry once-keys (the state and deadline they are about,
"promoted" for a promotion), so a repeated sweep never queues one twice. A hold is never kept
past its deadline for longer than one sweep (a minute), nor released twice.
"""

from collections import Counter

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from events.when import moment_text

from ..mail import queue
from ..models import MailKind, Registration, RegistrationLog
from .base import RegistrationError, lock_event, log_action
from .seats import _fill_free_seats, _promotes_automatically, _take_seats, cancel_registration

Status = Registration.Status


def confirm_hold(*, registration: Registration, actor=None, now=None) -> Registration:
    """Make a held seat the person's own, or keep their waiting-list place: the button in their email.

    A held seat (an offered one too) becomes CONFIRMED and the confirmation,
    with the calendar invite and the check-in code, is queued; a waiting-list
    place stays on the list without its deadline. Nothing else changes (the
    seat was counted when it was held). `registration` is updated in place.

    Preconditions: none; the state is read under the talk's lock. A hold
    whose deadline has passed is released here as the sweeper would have
    (its seat goes to the next in line) and the press is refused.

    Raises RegistrationError: "not_held" when nothing waits for a confirmation
    (confirmed already, a button pressed twice, or a plain waiting-list place),
    "released" when its time ran out (now or before), "cancelled" when the
    registration or the talk was cancelled.
    """
    now = now or timezone.now()
    released = False
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Status.CANCELLED:
            _refuse_cancelled(current)
        if event.status == Event.Status.CANCELLED:
            raise RegistrationError(_("This talk was cancelled."), code="cancelled")
        if current.hold_until is None:
            raise RegistrationError(_("Nothing is waiting for your confirmation: it is done."), code="not_held")
        if current.hold_until <= now:
            _release(event, [current], now=now)
            released = True
        else:
            from_status = current.status
            current.hold_until = None
            if from_status == Status.HELD:
                current.status = Status.CONFIRMED
            current.save(update_fields=["status", "hold_until"])
            log_action(current, RegistrationLog.Action.HOLD_CONFIRMED, from_status=from_status, actor=actor)
            if current.status == Status.CONFIRMED:
                queue(registration=current, kind=MailKind.CONFIRMATION)
    _copy_state(current, registration)
    if released:
        _refuse_cancelled(current)
    return current


def release_expired_holds(*, now=None) -> int:
    """Release every hold whose deadline has passed; return how many were released.

    Run by the sweeper (`manage.py send_queued_mail`, registered in apps.py)
    every minute. Each released registration is cancelled (history: "not
    confirmed in time"); each held seat freed goes to the next person on the
    waiting list, given or offered (services.seats), in the same transaction.
    Per talk under its lock, with the deadline checked again there: safe to
    run concurrently and to repeat after a crash; nothing is released twice.
    Raises nothing of its own.
    """
    now = now or timezone.now()
    event_ids = list(
        Registration.objects.expired_holds(now).order_by("event_id").values_list("event_id", flat=True).distinct()
    )
    released = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = lock_event(event_id)
            expired = list(
                Registration.objects.filter(event_id=event_id).expired_holds(now).select_for_update().order_by("pk")
            )
            _release(event, expired, now=now)
            released += len(expired)
    return released


def decline_offer(*, registration: Registration, actor=None) -> list[Registration]:
    """Pass an offered seat on: the registration is cancelled and the seat offered to the next person waiting.

    Returns the registrations promoted (or offered the seat) in its place.
    Raises RegistrationError ("not_offered") unless the registration holds an
    offered seat right now, and those of `cancel_registration`.
    """
    with transaction.atomic():
        lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if not current.is_offer:
            if current.status == Status.CANCELLED:
                _refuse_cancelled(current)
            raise RegistrationError(_("No seat is being offered to you now."), code="not_offered")
        promoted = cancel_registration(registration=current, actor=actor, note=_("Declined the offered seat."))
    _copy_state(current, registration)
    return promoted


def free_seat(*, registration: Registration, actor=None) -> list[Registration]:
    """Give up a seat (confirmed, held or offered) for the next person waiting: "Can't come? Free your seat".

    The registration is cancelled, with the cancellation email and a
    cancelling invite where one was sent, and the seat goes to the next in
    line in the same transaction. Returns whoever was promoted.

    Raises RegistrationError: "no_seat" for a waiting-list place (nothing to
    free), "released" or "already_cancelled" once it is cancelled, "ended"
    once the talk is over.
    """
    with transaction.atomic():
        lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Status.CANCELLED:
            _refuse_cancelled(current)
        if current.status == Status.WAITLISTED:
            raise RegistrationError(_("You are on the waiting list: there is no seat to free."), code="no_seat")
        if current.is_offer:
            promoted = decline_offer(registration=current, actor=actor)
        else:
            promoted = cancel_registration(registration=current, actor=actor, note=_("Freed the seat from the email."))
    _copy_state(current, registration)
    return promoted


def _release(event: Event, registrations: list[Registration], *, now) -> list[Registration]:
    """Cancel `registrations` (holds past their deadline) and fill the seats they held. Caller holds the talk's lock."""
    freed = Counter()
    for registration in registrations:
        from_status, deadline = registration.status, registration.hold_until
        registration.status, registration.cancelled_at, registration.hold_until = Status.CANCELLED, now, None
        registration.save(update_fields=["status", "cancelled_at", "hold_until"])
        log_action(
            registration,
            RegistrationLog.Action.HOLD_EXPIRED,
            from_status=from_status,
            note=_("Not confirmed by %(when)s.") % {"when": moment_text(event, deadline)},
        )
        if from_status == Status.HELD:
            freed[registration.attendance] += 1
    promoted = []
    for attendance, count in freed.items():
        _take_seats(event.pk, -count, attendance)
        if _promotes_automatically(event, now):
            promoted += _fill_free_seats(
                event, attendance=attendance, note=_("Seat released: not confirmed in time."), now=now
            )
    return promoted


def _refuse_cancelled(registration: Registration):
    if registration.log.filter(action=RegistrationLog.Action.HOLD_EXPIRED).exists():
        raise RegistrationError(_("It was not confirmed in time, so the place was released."), code="released")
    raise RegistrationError(_("This registration is cancelled."), code="already_cancelled")


def _copy_state(current: Registration, registration: Registration) -> None:
    registration.status, registration.hold_until = current.status, current.hold_until
    registration.cancelled_at = current.cancelled_at

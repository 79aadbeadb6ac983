"""Seats: cancelling, the waiting list and capacity; what a sign-up (signup.py) is decided by.

Where capacity is enforced: every function that changes who holds a seat
locks the talk's row, so on PostgreSQL all seat changes for one talk run one
after the other. Most start with it (`lock_event`, `SELECT ... FOR NO KEY
UPDATE`); inside that lock the seat counter `Event.seats_taken` is read,
decided on and changed with F() updates. A sign-up while seats are free ends
with it instead: everything else written first, its seat is taken by one
conditional UPDATE of the talk's row (`seats_taken + 1` where a seat is free
and registration open), which takes the same lock for the shortest time; no
row changed, and it starts again under the lock. A sign-up to a talk read as
full, whose waiting list has no limit, takes the same lock first by an UPDATE
that changes nothing where the talk is still full and open, and joins the
waiting list under it; otherwise it too starts again under `lock_event`. The check constraint on the
event table (0 <= seats_taken <= capacity) backs this up should any code path
forget the rule. Online attendance of a hybrid or online talk works the same
way with its own counter (`online_seats_taken`), limit (`online_capacity`,
None for no limit) and waiting list, under the same lock: online places never
take a seat in the room.

A seat *held* until its person confirms by email (services/holds.py) is a seat
like a confirmed one here: it is counted in `seats_taken` (or
`online_seats_taken`) when it is given, under the same lock, and freed the
same way. `Registration.objects.with_place()` lists both; `place_counts()`
tells them apart.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from events.when import moment_text

from .. import hold_rules
from ..mail import queue, queue_hold
from ..models import MailKind, Registration, RegistrationLog
from .base import RegistrationError, lock_event, log_action
from .notifications import cancel_invites


def check_registration_open(*, event: Event, now=None) -> None:
    """Refuse unless the talk accepts registrations at `now` (status and dates only, not seats).

    Raises RegistrationError with code "draft", "cancelled", "started",
    "not_open_yet" or "closed".
    """
    now = now or timezone.now()
    if event.status == Event.Status.DRAFT:
        raise RegistrationError(_("Registration is not open: this talk has not been published yet."), code="draft")
    if event.status == Event.Status.CANCELLED:
        raise RegistrationError(_("This talk was cancelled, so registration is closed."), code="cancelled")
    if event.has_started(now):
        raise RegistrationError(_("Registration is closed: this talk has already started."), code="started")
    if event.registration_opens and now < event.registration_opens:
        raise RegistrationError(
            _("Registration opens on %(when)s.") % {"when": moment_text(event, event.registration_opens)},
            code="not_open_yet",
        )
    if event.registration_closes and now >= event.registration_closes:
        raise RegistrationError(
            _("Registration closed on %(when)s.") % {"when": moment_text(event, event.registration_closes)},
            code="closed",
        )


def check_door_open(*, event: Event, now=None) -> None:
    """Refuse a check-in or walk-in unless the talk is published and not over.

    Raises RegistrationError with code "draft", "cancelled" or "ended".
    """
    if event.status == Event.Status.DRAFT:
        raise RegistrationError(_("This talk has not been published yet."), code="draft")
    if event.status == Event.Status.CANCELLED:
        raise RegistrationError(_("This talk was cancelled."), code="cancelled")
    if event.is_past(now):
        raise RegistrationError(_("This talk is over."), code="ended")


IN_PERSON = Registration.Attendance.IN_PERSON
ONLINE = Registration.Attendance.ONLINE
# Each kind of attendance counts its places in a field of its own.
_COUNTERS = {IN_PERSON: "seats_taken", ONLINE: "online_seats_taken"}


def places(event: Event, attendance: str) -> tuple[int, int | None]:
    """(taken, capacity) for one kind of attendance; capacity None means no limit."""
    if attendance == ONLINE:
        return event.online_seats_taken, event.online_capacity
    return event.seats_taken, event.capacity


def has_free_place(event: Event, attendance: str) -> bool:
    taken, capacity = places(event, attendance)
    return capacity is None or taken < capacity


def check_attendance_offered(*, event: Event, attendance: str) -> None:
    """Refuse ("attendance") a kind of attendance the talk does not offer."""
    offered = event.has_online if attendance == ONLINE else event.has_in_person
    if attendance not in _COUNTERS or not offered:
        message = (
            _("This talk is in person only: there is no online attendance.")
            if attendance == ONLINE
            else _("This talk is online only: there are no seats in a room.")
        )
        raise RegistrationError(message, code="attendance")


def decide_status(*, event: Event, waitlisted_count: int, attendance: str = IN_PERSON) -> str:
    """The status a new registration gets: a free place, else the waiting list.

    `event.seats_taken` (or `online_seats_taken`) must be current (read under
    the event lock when the answer is acted on); `waitlisted_count` counts the
    waiting list of the same kind of attendance. Raises RegistrationError with
    code "full" when the talk is full and has no waiting list, "waitlist_full"
    when the waiting list has reached its limit.
    """
    if has_free_place(event, attendance):
        return Registration.Status.CONFIRMED
    online = attendance == ONLINE and event.has_in_person
    if not event.waitlist_enabled:
        raise RegistrationError(
            _("Sorry, the online places are all taken.") if online else _("Sorry, this talk is full."), code="full"
        )
    if event.waitlist_limit is not None and waitlisted_count >= event.waitlist_limit:
        raise RegistrationError(
            _("Sorry, the online places are all taken and their waiting list is full too.")
            if online
            else _("Sorry, this talk is full and its waiting list is full too."),
            code="waitlist_full",
        )
    return Registration.Status.WAITLISTED


def _waitlisted_count(event: Event, attendance: str) -> int:
    # What decide_status needs: the waiting list's length, only when it is full and limited.
    if has_free_place(event, attendance) or event.waitlist_limit is None:
        return 0
    return Registration.objects.waitlisted().filter(event_id=event.pk, attendance=attendance).count()


def _take_seats(event_id: int, count: int, attendance: str = IN_PERSON) -> None:
    if count:
        counter = _COUNTERS[attendance]
        Event.objects.filter(pk=event_id).update(**{counter: F(counter) + count})


def _fill_free_seats(
    event: Event, *, attendance: str = IN_PERSON, actor=None, note: str = "", now=None
) -> list[Registration]:
    """Promote from the waiting list of `attendance`, first come first served, while places are free.

    Each promoted person gets the seat (PROMOTED), or has it offered (HELD,
    reason "offer") when the talk starts within OFFER_BEFORE_HOURS, or held
    until the deadline they were already given to confirm by email. Someone
    whose time to confirm has run out is skipped (the sweeper releases them).

    `event` must be locked by the caller; its counters are re-read here
    because the caller may just have changed them with an F() update.
    """
    now = now or timezone.now()
    event.refresh_from_db(fields=["capacity", "seats_taken", "online_capacity", "online_seats_taken"])
    taken, capacity = places(event, attendance)
    waiting = (
        Registration.objects.filter(event_id=event.pk, attendance=attendance)
        .waitlist_order()
        .exclude(hold_until__lte=now)
    )
    if capacity is not None:
        if capacity - taken <= 0:
            return []
        waiting = waiting[: capacity - taken]
    promoted = list(waiting)
    offering = hold_rules.offers_seats(event=event, now=now)
    for registration in promoted:
        if offering:
            deadline = hold_rules.offer_deadline(event=event, now=now)
            registration.status, registration.hold_reason = Registration.Status.HELD, Registration.HoldReason.OFFER
            registration.hold_until = min(deadline, registration.hold_until or deadline)
            action, kind = RegistrationLog.Action.OFFERED, MailKind.OFFER
        elif registration.awaits_confirmation:
            registration.status = Registration.Status.HELD
            action, kind = RegistrationLog.Action.HELD, MailKind.HELD
        else:
            registration.status = Registration.Status.CONFIRMED
            action, kind = RegistrationLog.Action.PROMOTED, MailKind.PROMOTED
        registration.save(update_fields=["status", "hold_reason", "hold_until"])
        log_action(registration, action, from_status=Registration.Status.WAITLISTED, actor=actor, note=note)
        if kind == MailKind.PROMOTED:
            # A registration leaves the waiting list once: one promotion message, ever.
            queue(registration=registration, kind=kind, once_key="promoted")
        else:
            queue_hold(registration=registration, kind=kind, promoted=True)
    _take_seats(event.pk, len(promoted), attendance)
    setattr(event, _COUNTERS[attendance], taken + len(promoted))
    return promoted


def _promotes_automatically(event: Event, now=None) -> bool:
    # Nobody should be told "you have a seat" for a talk that is cancelled or already under way.
    return event.status == Event.Status.PUBLISHED and not event.has_started(now)


def cancel_registration(*, registration: Registration, actor=None, note: str = "") -> list[Registration]:
    """Cancel a registration (or leave the waiting list) and give a freed seat to the next in line.

    A confirmed registration frees its seat and, in the same transaction, the
    first person on the waiting list is promoted (unless the talk is cancelled
    or has started). Returns the promoted registrations. `registration` is
    updated in place.

    A held seat is freed the same way (it had no calendar invite to cancel).

    Raises RegistrationError ("already_cancelled") when it is cancelled already:
    cancelled stays cancelled; ("ended") once the talk is over.
    """
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Registration.Status.CANCELLED:
            registration.status, registration.cancelled_at = current.status, current.cancelled_at
            raise RegistrationError(_("This registration is already cancelled."), code="already_cancelled")
        if event.is_past():
            # The seat is history by now; a cancelling invite would only clutter calendars.
            raise RegistrationError(_("This talk has already taken place."), code="ended")
        from_status = current.status
        current.status = Registration.Status.CANCELLED
        current.cancelled_at = timezone.now()
        current.hold_until = None
        current.save(update_fields=["status", "cancelled_at", "hold_until"])
        log_action(current, RegistrationLog.Action.CANCELLED, from_status=from_status, actor=actor, note=note)
        cancel_invites(Registration.objects.filter(pk=current.pk), from_status == Registration.Status.CONFIRMED)
        queue(
            registration=current,
            kind=MailKind.CANCELLATION,
            data={"cancels_invite": from_status == Registration.Status.CONFIRMED},
        )
        promoted = []
        if from_status in Registration.PLACE_STATUSES:
            _take_seats(event.pk, -1, current.attendance)
            if _promotes_automatically(event):
                promoted = _fill_free_seats(
                    event,
                    attendance=current.attendance,
                    actor=actor,
                    note=_("Seat freed by a cancellation (%(id)s).") % {"id": current.pk},
                )
    registration.status, registration.cancelled_at = current.status, current.cancelled_at
    return promoted


def promote_waitlist(*, event: Event, actor=None) -> list[Registration]:
    """Fill every free seat of `event` from its waiting list, in order of arrival.

    Returns the promoted registrations (empty when no seat is free or nobody
    waits). Raises RegistrationError ("cancelled") for a cancelled talk.
    """
    with transaction.atomic():
        locked = lock_event(event.pk)
        if locked.status == Event.Status.CANCELLED:
            raise RegistrationError(_("This talk was cancelled: nobody can be promoted."), code="cancelled")
        promoted = [
            registration
            for attendance in _COUNTERS
            for registration in _fill_free_seats(
                locked, attendance=attendance, actor=actor, note=_("Promoted by an organizer.")
            )
        ]
    event.seats_taken, event.online_seats_taken = locked.seats_taken, locked.online_seats_taken
    return promoted


def change_capacity(*, event: Event, capacity: int, actor=None, promote: bool = True) -> list[Registration]:
    """Set the number of seats of `event`; raising it promotes from the waiting list at once.

    With `promote=False` (a seat added at the door for the person standing
    there) nobody is promoted.

    Raises RegistrationError ("capacity_below_taken") when `capacity` is
    below the number of people already holding a seat (cancel registrations
    first), or ("invalid") when it is negative. Returns the promoted
    registrations. `event.capacity` and `event.seats_taken` are updated in place.
    """
    if capacity is None or capacity < 0:
        raise RegistrationError(_("The capacity must be zero or more."), code="invalid")
    with transaction.atomic():
        locked = lock_event(event.pk)
        if capacity < locked.seats_taken:
            raise RegistrationError(
                _(
                    "%(taken)s people already hold a seat (held seats included), so the capacity cannot be lowered "
                    "to %(capacity)s. Cancel registrations first."
                )
                % {"taken": locked.seats_taken, "capacity": capacity},
                code="capacity_below_taken",
            )
        Event.objects.filter(pk=locked.pk).update(capacity=capacity)
        promoted = []
        if promote and _promotes_automatically(locked):
            promoted = _fill_free_seats(
                locked, actor=actor, note=_("Capacity changed to %(capacity)s.") % {"capacity": capacity}
            )
        else:
            locked.refresh_from_db(fields=["capacity", "seats_taken"])
    event.capacity, event.seats_taken = locked.capacity, locked.seats_taken
    return promoted


def change_online_capacity(*, event: Event, capacity: int | None, actor=None) -> list[Registration]:
    """Set the online places of `event` (None: no limit); more places promote from the online waiting list at once.

    Raises RegistrationError ("capacity_below_taken") when `capacity` is below
    the number of people already attending online, ("invalid") when negative.
    Returns the promoted registrations; `event` is updated in place.
    """
    if capacity is not None and capacity < 0:
        raise RegistrationError(_("The number of online places must be zero or more."), code="invalid")
    with transaction.atomic():
        locked = lock_event(event.pk)
        if capacity is not None and capacity < locked.online_seats_taken:
            raise RegistrationError(
                _(
                    "%(taken)s people already attend online, so the online places cannot be lowered to "
                    "%(capacity)s. Cancel registrations first."
                )
                % {"taken": locked.online_seats_taken, "capacity": capacity},
                code="capacity_below_taken",
            )
        Event.objects.filter(pk=locked.pk).update(online_capacity=capacity)
        promoted = []
        if _promotes_automatically(locked):
            promoted = _fill_free_seats(
                locked,
                attendance=ONLINE,
                actor=actor,
                note=_("Online places changed to %(capacity)s.") % {"capacity": capacity or _("no limit")},
            )
        else:
            locked.refresh_from_db(fields=["online_capacity", "online_seats_taken"])
    event.online_capacity, event.online_seats_taken = locked.online_capacity, locked.online_seats_taken
    return promoted


def seat_waitlisted(*, registration: Registration, actor=None, note: str = "") -> Registration:
    """Give a free seat to this waiting-list registrant now, ahead of the others (they are at the door).

    No email: the person is there (which is all the confirmation a waiting-list
    place still waiting for one needs). Raises RegistrationError
    ("not_waitlisted") unless the registration is on the waiting list, ("full")
    when no seat is free.
    """
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status != Registration.Status.WAITLISTED:
            raise RegistrationError(_("This registration is not on the waiting list."), code="not_waitlisted")
        if not has_free_place(event, current.attendance):
            raise RegistrationError(_("No seat is free."), code="full")
        current.status, current.hold_until = Registration.Status.CONFIRMED, None
        current.save(update_fields=["status", "hold_until"])
        _take_seats(event.pk, 1, current.attendance)
        log_action(
            current, RegistrationLog.Action.PROMOTED, from_status=Registration.Status.WAITLISTED, actor=actor, note=note
        )
    registration.status = current.status
    return current

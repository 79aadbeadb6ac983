"""At the door: check in, undo, walk-ins, no-shows. Seats and registrations change only through
registrations.services; this module adds the door's own rules and its history entries."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events import when
from events.models import Event
from registrations import services
from registrations.models import Registration, RegistrationLog
from registrations.services import RegistrationError
from seminar_site.addresses import ascii_address

Status = Registration.Status


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: `already` when the person had been checked in before (nothing changed)."""

    registration: Registration
    already: bool


def check_in(*, registration: Registration, actor) -> CheckIn:
    """Check `registration` in; a second check-in changes nothing and says when the first was.

    A seat held until its person confirms by email becomes theirs: they are here.

    Raises RegistrationError ("not_confirmed") for a waitlisted or cancelled
    registration, ("online") for someone attending online (they have no seat
    in the room: `admit_walk_in` gives them one), ("draft", "cancelled",
    "ended") when the talk is not one to check in at (see
    `registrations.services.check_door_open`).
    """
    services.check_door_open(event=registration.event)
    if registration.is_online:
        raise RegistrationError(
            _("%(name)s attends online and has no seat in the room. Add them as a walk-in to give them one.")
            % {"name": registration.name},
            code="online",
        )
    try:
        current = services.check_in(registration=registration, actor=actor)
    except RegistrationError as error:
        if error.code != "already_checked_in":
            raise
        registration.refresh_from_db(fields=["checked_in_at"])
        return CheckIn(registration, already=True)
    return CheckIn(current, already=False)


def undo_check_in(*, registration: Registration, actor) -> bool:
    """Take back a check-in made by mistake; False (changing nothing) when there was none.

    Raises RegistrationError as `check_in` does when the talk is not one to
    check in at ("ended" once it is over): a check-in taken back then could
    not be made again, and the attendance would be lost.
    """
    services.check_door_open(event=registration.event)
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.checked_in_at is None:
            return False
        note = _("Was checked in at %(time)s.") % {"time": when.time_of_day(registration.event, current.checked_in_at)}
        current.checked_in_at = None
        current.save(update_fields=["checked_in_at"])
        RegistrationLog.objects.create(
            registration=current,
            action=RegistrationLog.Action.CHECK_IN_UNDONE,
            from_status=current.status,
            to_status=current.status,
            actor=actor,
            note=note,
        )
    registration.checked_in_at = None
    return True


def admit_walk_in(
    *, event: Event, name: str, email: str, affiliation: str = "", position: str = "", over_capacity: bool, actor
) -> CheckIn:
    """Register someone who turned up at the door and check them in, in one step.

    A free seat is taken as by any registration. When the talk is full, the
    person gets in only with `over_capacity`: the capacity is raised by one
    (through `registrations.services.change_capacity`) and the choice is
    recorded in their history. Someone already registered with that address
    is checked in instead (a waiting-list place becomes a seat the same way,
    and so does a registration to attend online, through
    `registrations.services.switch_attendance`).

    Raises RegistrationError: "full" when the talk is full and `over_capacity`
    is not given, "invalid" for bad fields, "draft"/"cancelled"/"ended" when
    the talk is not one to check in at.
    """
    with transaction.atomic():
        # The talk's seat lock, as registrations' services take it (FOR NO KEY UPDATE: see lock_event).
        locked = Event.objects.select_for_update(of=("self",), no_key=True).select_related("venue").get(pk=event.pk)
        services.check_door_open(event=locked)
        existing = (
            Registration.objects.filter(event=locked, email__iexact=ascii_address((email or "").strip()))
            .exclude(status=Status.CANCELLED)
            .first()
        )
        if existing is not None and existing.has_place and not existing.is_online:
            # A seat held until confirmed is confirmed by the person being here.
            return check_in(registration=existing, actor=actor)
        if not locked.has_in_person:
            raise RegistrationError(_("This talk is online only: there are no seats in a room."), code="attendance")
        full = locked.seats_taken >= locked.capacity
        if full and not over_capacity:
            raise RegistrationError(
                _("The talk is full (%(capacity)s seats). Choose “over capacity” to let this person in anyway.")
                % {"capacity": locked.capacity},
                code="full",
            )
        note = ""
        if full:
            note = _("Admitted over capacity at the door: capacity raised from %(old)s to %(new)s.") % {
                "old": locked.capacity,
                "new": locked.capacity + 1,
            }
            # promote=False: the added seat is for the person at the door, not the next in line.
            services.change_capacity(event=locked, capacity=locked.capacity + 1, actor=actor, promote=False)
        if existing is not None and existing.is_online:  # registered to attend online, and here
            services.switch_attendance(registration=existing, attendance=Registration.Attendance.IN_PERSON, actor=actor)
            RegistrationLog.objects.create(
                registration=existing,
                action=RegistrationLog.Action.WALK_IN,
                from_status=existing.status,
                to_status=existing.status,
                actor=actor,
                note=note or _("Registered to attend online; came to the room."),
            )
            return check_in(registration=existing, actor=actor)
        if existing is not None:  # on the waiting list, and here
            registration = services.seat_waitlisted(
                registration=existing, actor=actor, note=note or _("Seated at the door.")
            )
            return check_in(registration=registration, actor=actor)
        result = services.register(
            event=locked,
            name=name,
            email=email,
            affiliation=affiliation,
            position=position,
            actor=actor,
            at_door=True,
        )
        registration = result.registration
        if registration.status != Status.CONFIRMED:
            raise RegistrationError(_("No seat was free after all. Please try again."), code="full")
        RegistrationLog.objects.create(
            registration=registration,
            action=RegistrationLog.Action.WALK_IN,
            from_status=registration.status,
            to_status=registration.status,
            actor=actor,
            note=note,
        )
        return check_in(registration=registration, actor=actor)


def mark_no_shows(*, event: Event, actor) -> int:
    """After a talk has started, mark everyone with a confirmed seat in the room not checked in as a no-show.

    People attending online are never checked in, so never no-shows. Returns
    how many were marked now; those marked before are left alone. A late
    check-in clears the mark. Raises RegistrationError ("not_started") before
    the talk starts.
    """
    if not event.has_started():
        raise RegistrationError(_("No-shows can be marked once the talk has started."), code="not_started")
    now = timezone.now()
    with transaction.atomic():
        missing = list(
            Registration.objects.select_for_update()
            .filter(event=event, status=Status.CONFIRMED, checked_in_at__isnull=True, no_show_at__isnull=True)
            .in_person()
            .order_by("pk")
        )
        Registration.objects.filter(pk__in=[r.pk for r in missing]).update(no_show_at=now)
        RegistrationLog.objects.bulk_create(
            RegistrationLog(
                registration=registration,
                action=RegistrationLog.Action.NO_SHOW,
                from_status=registration.status,
                to_status=registration.status,
                actor=actor,
            )
            for registration in missing
        )
    return len(missing)

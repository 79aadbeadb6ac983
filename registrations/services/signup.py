"""Signing up: `register`, from the form, the admin or the door.

How a sign-up gets its place. While the talk it read has a place free (all
but the last few of a rush), everything is written first, without any lock:
the registration (the unique constraint answers for its address), its
answers, its history and its email; the place is taken last, by one
conditional UPDATE of the talk's row (seats.py says why that is the talk's
seat lock). While the talk it read is full with a waiting list of no limit
(the rest of a rush), one conditional UPDATE that changes nothing takes the
same lock first, if the talk is still full and open, and the waiting-list
place is written under it, in the order of arrival. Otherwise, or when
either UPDATE finds no such talk, the sign-up is decided under the lock
taken by reading the talk, as every other seat change is (seats.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from events.models import Event
from outbox import services as outbox
from seminar_site import i18n, pagecache
from seminar_site.addresses import ascii_address
from seminar_site.statements import Parameter, PreparedInsert, PreparedInserts, PreparedUpdate

from .. import hold_rules
from ..mail import first_message, queue
from ..models import Answer, MailKind, Registration, RegistrationLog
from .base import NEW_LOG_ENTRY, RegistrationError, lock_event, log_action, new_log_entry
from .seats import (
    _COUNTERS,
    IN_PERSON,
    ONLINE,
    _take_seats,
    _waitlisted_count,
    check_attendance_offered,
    check_door_open,
    check_registration_open,
    decide_status,
    has_free_place,
)


@dataclass(frozen=True)
class RegistrationResult:
    """What `register` did: `created` is False when the address was already registered."""

    registration: Registration
    created: bool

    @property
    def already_registered(self) -> bool:
        return not self.created


def _active_with_email(event_id: int, email: str):
    # Compared exactly as the unique constraint does: lower() in the database.
    return (
        Registration.objects.active()
        .filter(event_id=event_id)
        .alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(Value(email)))
    )


def _already_registered(existing: Registration, *, actor=None) -> RegistrationResult:
    mail = queue(registration=existing, kind=MailKind.RESEND)
    if mail is not None:
        log_action(
            existing,
            RegistrationLog.Action.CONFIRMATION_RESENT,
            from_status=existing.status,
            actor=actor,
            note=_("Registered again with the same address."),
        )
    return RegistrationResult(registration=existing, created=False)


def _field_label(name: str) -> str:
    return capfirst(Registration._meta.get_field(name).verbose_name)


def register(
    *,
    event: Event,
    name: str,
    email: str,
    affiliation: str = "",
    position: str = "",
    answers: Mapping[int, str] | None = None,
    attendance: str = IN_PERSON,
    actor=None,
    now=None,
    at_door: bool = False,
    language: str = "",
    signups_from_address: int | None = None,
    count_signups_from_address: Callable[[], int | None] | None = None,
) -> RegistrationResult:
    """Register `email` for `event`: a place if one is free, else a place on the waiting list.

    The place may be *held* until the person confirms by email (status HELD, or
    a waiting-list place with `hold_until`): `hold_rules.sign_up_hold` decides,
    from the talk and `signups_from_address` (the sign-ups the client's address
    made for the talk this hour, this one included; None when unknown), or
    `count_signups_from_address`, which counts this sign-up and returns that
    number: it is called once, in the sign-up's transaction, so that with the
    database cache the count commits (or rolls back) with the sign-up, in one
    commit instead of two. A held
    person is sent the button to keep it instead of the confirmation. Nobody
    registered by staff (`actor`, `at_door`) is held.

    `attendance` is in person (a seat in the room) or online; each has its own
    places and waiting list.

    Preconditions: `name`, `email`, `affiliation` and `position` were checked
    by a form (they are validated again against the model's fields), and so
    were `answers` (question id to `Answer.value`; only questions of this talk).
    An address that already holds an active registration (compared trimmed,
    case-insensitively and with its domain in ASCII: seminar_site/addresses.py)
    gets no second seat: the confirmation is queued again
    and the existing registration is returned with `created=False`.

    Raises RegistrationError when registration is not open (see
    `check_registration_open`), the talk does not offer `attendance`
    ("attendance"), the talk is full ("full", "waitlist_full"),
    or a field is invalid ("invalid"), or an answer is to a question of
    another talk ("invalid"). With `at_door` (staff adding a walk-in) the
    registration window does not apply, only that the talk is published and
    not over (see `check_door_open`).

    `language` (e.g. the request's, `seminar_site.i18n.current()`) is the one
    every message to the registrant is written in; the site's default if empty
    or not offered.
    """
    now = now or timezone.now()
    email = ascii_address((email or "").strip())
    answers = {question_id: value for question_id, value in (answers or {}).items() if value}
    if answers and set(answers) - set(event.questions.values_list("pk", flat=True)):
        raise RegistrationError(_("This form does not belong to this talk. Please reload the page."), code="invalid")
    registration = Registration(
        event_id=event.pk,
        name=" ".join((name or "").split()),
        email=email,
        affiliation=(affiliation or "").strip(),
        position=position or "",
        attendance=attendance,
        language=i18n.supported(language),
    )
    check_attendance_offered(event=event, attendance=attendance)
    try:
        registration.full_clean(exclude=["event", "status"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        message = " ".join(
            " ".join(msgs) if field == NON_FIELD_ERRORS else f"{_field_label(field)}: {' '.join(msgs)}"
            for field, msgs in error.message_dict.items()
        )
        raise RegistrationError(message, code="invalid") from None

    def hold_for_sign_up() -> hold_rules.SignUpHold:
        # In the transaction, before any lock: the rule may count recent sign-ups, and nothing under
        # the lock should wait for that. The address's sign-up is counted once, even when its place is
        # then decided again under the lock (with the database cache, that count went with the rollback:
        # a rare race that makes the address's count one short, never one too many).
        nonlocal signups_from_address, count_signups_from_address
        if at_door or actor is not None:
            return hold_rules.NO_HOLD
        if count_signups_from_address is not None:
            signups_from_address, count_signups_from_address = count_signups_from_address(), None
        return hold_rules.sign_up_hold(
            event=event, attendance=attendance, signups_from_address=signups_from_address, now=now
        )

    try:
        # As the talk was read: a place free (most likely one still is: all but the last few of a rush),
        # or full with a waiting list anyone may join (most likely still so: the rest of a rush).
        if not at_door and (has_free_place(event, attendance) or _waitlist_open_to_all(event)):
            result = _register_without_reading_the_talk(
                event, registration, answers=answers, hold=hold_for_sign_up, actor=actor, now=now, attendance=attendance
            )
            if result is not None:
                return result
        with transaction.atomic():
            hold = hold_for_sign_up()
            locked = lock_event(event.pk)
            if at_door:
                check_door_open(event=locked, now=now)
            else:
                check_registration_open(event=locked, now=now)
            try:
                check_attendance_offered(event=locked, attendance=attendance)
                registration.status = decide_status(
                    event=locked,
                    waitlisted_count=_waitlisted_count(locked, attendance),
                    attendance=attendance,
                )
            except RegistrationError:
                # Someone already registered is told so, whatever else has changed.
                existing = _active_with_email(locked.pk, email).first()
                if existing is None:
                    raise
                return _already_registered(existing, actor=actor)
            reason = hold.seat if registration.status == Registration.Status.CONFIRMED else hold.waitlist
            if reason:
                registration.hold_reason = reason
                registration.hold_until = hold_rules.hold_deadline(event=locked, now=now)
                if registration.status == Registration.Status.CONFIRMED:
                    registration.status = Registration.Status.HELD
            # No look-up of the address first: the unique constraint finds an
            # active registration of it (the IntegrityError below). Under the
            # talk's lock every statement makes all other sign-ups wait.
            _save_new(registration, answers, actor=actor)
            if registration.has_place:
                _take_seats(locked.pk, 1, attendance)
    except IntegrityError:
        # The transaction is rolled back (nothing of it was written): the address
        # is registered already, by an earlier or an identical simultaneous submission.
        with transaction.atomic():
            locked = lock_event(event.pk)
            existing = _active_with_email(locked.pk, email).first()
            if existing is None:
                raise
            return _already_registered(existing, actor=actor)
    return RegistrationResult(registration=registration, created=True)


class _NoPlace(Exception):
    """The talk is not as it was read (a place taken or freed, registration closed): start again, under the lock."""


def _waitlist_open_to_all(event: Event) -> bool:
    # With a limit, joining the waiting list needs its length, counted under the lock.
    return event.waitlist_enabled and event.waitlist_limit is None


def _register_without_reading_the_talk(
    event: Event, registration: Registration, *, answers, hold, actor, now, attendance: str
) -> RegistrationResult | None:
    """Register as the talk was read (`event`): with a place if one was free, else on the waiting list; None if the
    talk is no longer so.

    `hold` says, in the transaction, whether the place must be confirmed by email.

    Each way checks the talk's row as it is then with one conditional UPDATE,
    which takes the talk's seat lock (on PostgreSQL, other seat changes of the
    talk wait from there to the commit) and checks what
    `check_registration_open` and `check_attendance_offered` would, and that
    the start is the one the hold's deadline was computed from:

    - A place is taken last. Everything else is written first, without any
      lock: the registration (the unique constraint answers for its address),
      its answers, its history and its email.
    - A waiting-list place is checked first: the talk still full, its waiting
      list still open to all, by an UPDATE that changes nothing. The rest is
      written under that lock, so the waiting list is in the order the lock
      was taken, as under `lock_event`, without reading the talk again.

    If the UPDATE changes no row, everything is rolled back and the caller
    decides under the lock.
    """
    with_place = has_free_place(event, attendance)
    try:
        with transaction.atomic():
            signup_hold = hold()
            if not with_place and not _STILL_FULL[attendance].execute(pk=event.pk, start=event.start, now=now):
                raise _NoPlace
            reason = signup_hold.seat if with_place else signup_hold.waitlist
            if with_place:
                registration.status = Registration.Status.HELD if reason else Registration.Status.CONFIRMED
            else:
                registration.status = Registration.Status.WAITLISTED
            if reason:
                registration.hold_reason = reason
                registration.hold_until = hold_rules.hold_deadline(event=event, now=now)
            _save_new(registration, answers, actor=actor)
            if with_place and not _TAKE_PLACE[attendance].execute(pk=event.pk, start=event.start, now=now):
                raise _NoPlace
            # After the talk's row lock, as lock_event does: every sign-up takes the two in the same order.
            pagecache.changed(pagecache.talk_tag(event.slug))
    except _NoPlace:
        registration.pk, registration._state.adding = None, True
        registration.status, registration.hold_reason, registration.hold_until = "", "", None
        return None
    return RegistrationResult(registration=registration, created=True)


def _open_talk(attendance: str) -> QuerySet:
    """The talk `pk` as it was read (its `start`), open at `now` for sign-ups that attend by `attendance`."""
    start = Event._meta.get_field("start")
    now = Parameter("now", start)
    return Event.objects.filter(
        Q(registration_opens__isnull=True) | Q(registration_opens__lte=now),
        Q(registration_closes__isnull=True) | Q(registration_closes__gt=now),
        pk=Parameter("pk", Event._meta.pk),
        status=Event.Status.PUBLISHED,
        start=Parameter("start", start),
        start__gt=now,
    ).exclude(
        # What Event.has_online and has_in_person say, on the row as it is now.
        attendance_mode=Event.AttendanceMode.IN_PERSON if attendance == ONLINE else Event.AttendanceMode.ONLINE
    )


def _take_place_statement(attendance: str):
    counter = _COUNTERS[attendance]
    if attendance == ONLINE:
        free = Q(online_capacity__isnull=True) | Q(online_seats_taken__lt=F("online_capacity"))
    else:
        free = Q(seats_taken__lt=F("capacity"))
    return _open_talk(attendance).filter(free), {counter: F(counter) + 1}


def _still_full_statement(attendance: str):
    counter = _COUNTERS[attendance]
    if attendance == ONLINE:
        full = Q(online_capacity__isnull=False, online_seats_taken__gte=F("online_capacity"))
    else:
        full = Q(seats_taken__gte=F("capacity"))
    # Sets the counter to itself: a row lock, as an UPDATE takes, and no change.
    return _open_talk(attendance).filter(full, waitlist_enabled=True, waitlist_limit__isnull=True), {
        counter: F(counter)
    }


# Every sign-up in a rush runs one of these: compiled once, not per sign-up (seminar_site/statements.py).
_TAKE_PLACE = {
    attendance: PreparedUpdate(Event, partial(_take_place_statement, attendance)) for attendance in _COUNTERS
}
_STILL_FULL = {
    attendance: PreparedUpdate(Event, partial(_still_full_statement, attendance)) for attendance in _COUNTERS
}


# Every sign-up writes a registration, its history entry and its message: compiled once, and on
# PostgreSQL in one statement, one round trip instead of three (seminar_site/statements.py).
_NEW_REGISTRATION = PreparedInserts(
    PreparedInsert(Registration), (NEW_LOG_ENTRY, "registration_id"), (outbox.NEW_MAIL, "about_id")
)


def _save_new(registration: Registration, answers: Mapping[int, str], *, actor) -> None:
    """Write a new registration (its status decided) with its answers, its history entry and its message.

    Registration.save's own step, the address trimmed, register() did first.
    """
    if registration.status == Registration.Status.CONFIRMED:
        action = RegistrationLog.Action.REGISTERED
    elif registration.status == Registration.Status.HELD:
        action = RegistrationLog.Action.HELD
    else:
        action = RegistrationLog.Action.WAITLISTED
    entry, message = new_log_entry(registration, action, actor=actor), first_message(registration)
    _NEW_REGISTRATION.insert(registration, entry, message)
    if answers:
        Answer.objects.bulk_create(
            Answer(registration=registration, question_id=question_id, value=value)
            for question_id, value in answers.items()
        )
    outbox.written(message)

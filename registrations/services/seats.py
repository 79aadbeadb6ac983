"""Seats: registering, cancelling, the waiting list and capacity.

Where capacity is enforced: every function that changes who holds a seat
starts by locking the talk's row (`SELECT ... FOR UPDATE`), so on PostgreSQL
all seat changes for one talk run one after the other. Inside that lock the
seat counter `Event.seats_taken` is read, decided on and changed with F()
updates; the check constraint on the event table (0 <= seats_taken <=
capacity) backs this up should any code path forget the rule.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from events.when import moment_text

from ..mail import queue
from ..models import Answer, MailKind, Registration, RegistrationLog
from .base import RegistrationError, lock_event, log_action
from .notifications import cancel_invites


@dataclass(frozen=True)
class RegistrationResult:
    """What `register` did: `created` is False when the address was already registered."""

    registration: Registration
    created: bool

    @property
    def already_registered(self) -> bool:
        return not self.created


def check_registration_open(*, event: Event, now=None) -> None:
    """Refuse unless the talk accepts registrations at `now` (status and dates only, not seats).

    Raises RegistrationError with code "draft", "cancelled", "started",
    "not_open_yet" or "closed".
    """
    now = now or timezone.now()
    if event.status == Event.Status.DRAFT:
        raise RegistrationError("Registration is not open: this talk has not been published yet.", code="draft")
    if event.status == Event.Status.CANCELLED:
        raise RegistrationError("This talk was cancelled, so registration is closed.", code="cancelled")
    if event.has_started(now):
        raise RegistrationError("Registration is closed: this talk has already started.", code="started")
    if event.registration_opens and now < event.registration_opens:
        raise RegistrationError(
            f"Registration opens on {moment_text(event, event.registration_opens)}.", code="not_open_yet"
        )
    if event.registration_closes and now >= event.registration_closes:
        raise RegistrationError(
            f"Registration closed on {moment_text(event, event.registration_closes)}.", code="closed"
        )


def decide_status(*, event: Event, waitlisted_count: int) -> str:
    """The status a new registration gets: a free seat, else the waiting list.

    `event.seats_taken` must be current (read under the event lock when the
    answer is acted on). Raises RegistrationError with code "full" when the
    talk is full and has no waiting list, "waitlist_full" when the waiting
    list has reached its limit.
    """
    if event.seats_taken < event.capacity:
        return Registration.Status.CONFIRMED
    if not event.waitlist_enabled:
        raise RegistrationError("Sorry, this talk is full.", code="full")
    if event.waitlist_limit is not None and waitlisted_count >= event.waitlist_limit:
        raise RegistrationError("Sorry, this talk is full and its waiting list is full too.", code="waitlist_full")
    return Registration.Status.WAITLISTED


def _active_with_email(event_id: int, email: str):
    # Compared exactly as the unique constraint does: lower() in the database.
    return (
        Registration.objects.active()
        .filter(event_id=event_id)
        .alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(Value(email)))
    )


def _take_seats(event_id: int, count: int) -> None:
    if count:
        Event.objects.filter(pk=event_id).update(seats_taken=F("seats_taken") + count)


def _already_registered(existing: Registration, *, actor=None) -> RegistrationResult:
    mail = queue(registration=existing, kind=MailKind.RESEND)
    if mail is not None:
        log_action(
            existing,
            RegistrationLog.Action.CONFIRMATION_RESENT,
            from_status=existing.status,
            actor=actor,
            note="Registered again with the same address.",
        )
    return RegistrationResult(registration=existing, created=False)


def register(
    *,
    event: Event,
    name: str,
    email: str,
    affiliation: str = "",
    position: str = "",
    answers: Mapping[int, str] | None = None,
    actor=None,
    now=None,
) -> RegistrationResult:
    """Register `email` for `event`: a seat if one is free, else a place on the waiting list.

    Preconditions: `name`, `email`, `affiliation` and `position` were checked
    by a form (they are validated again against the model's fields), and so
    were `answers` (question id to `Answer.value`; only questions of this talk).
    An address that already holds an active registration (compared trimmed and
    case-insensitively) gets no second seat: the confirmation is queued again
    and the existing registration is returned with `created=False`.

    Raises RegistrationError when registration is not open (see
    `check_registration_open`), the talk is full ("full", "waitlist_full"),
    or a field is invalid ("invalid"), or an answer is to a question of
    another talk ("invalid").
    """
    email = (email or "").strip()
    answers = {question_id: value for question_id, value in (answers or {}).items() if value}
    if answers and set(answers) - set(event.questions.values_list("pk", flat=True)):
        raise RegistrationError(_("This form does not belong to this talk. Please reload the page."), code="invalid")
    registration = Registration(
        event_id=event.pk,
        name=" ".join((name or "").split()),
        email=email,
        affiliation=(affiliation or "").strip(),
        position=position or "",
    )
    try:
        registration.full_clean(exclude=["event", "status"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        message = " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
        raise RegistrationError(message, code="invalid") from None

    with transaction.atomic():
        locked = lock_event(event.pk)
        check_registration_open(event=locked, now=now)
        existing = _active_with_email(locked.pk, email).first()
        if existing is not None:
            return _already_registered(existing, actor=actor)

        waitlisted_count = (
            Registration.objects.waitlisted().filter(event_id=locked.pk).count()
            if locked.seats_taken >= locked.capacity
            else 0
        )
        registration.status = decide_status(event=locked, waitlisted_count=waitlisted_count)
        try:
            # A savepoint, so that losing the race against an identical
            # submission leaves the outer transaction usable.
            with transaction.atomic():
                registration.save(force_insert=True)
        except IntegrityError:
            existing = _active_with_email(locked.pk, email).first()
            if existing is None:
                raise
            return _already_registered(existing, actor=actor)

        Answer.objects.bulk_create(
            Answer(registration=registration, question_id=question_id, value=value)
            for question_id, value in answers.items()
        )
        if registration.status == Registration.Status.CONFIRMED:
            _take_seats(locked.pk, 1)
            log_action(registration, RegistrationLog.Action.REGISTERED, actor=actor)
            queue(registration=registration, kind=MailKind.CONFIRMATION)
        else:
            log_action(registration, RegistrationLog.Action.WAITLISTED, actor=actor)
            queue(registration=registration, kind=MailKind.WAITLISTED)
    return RegistrationResult(registration=registration, created=True)


def _fill_free_seats(event: Event, *, actor=None, note: str = "") -> list[Registration]:
    """Promote from the waiting list, first come first served, while seats are free.

    `event` must be locked by the caller; its seat counter is re-read here
    because the caller may just have changed it with an F() update.
    """
    event.refresh_from_db(fields=["capacity", "seats_taken"])
    free = event.capacity - event.seats_taken
    if free <= 0:
        return []
    promoted = list(Registration.objects.filter(event_id=event.pk).waitlist_order()[:free])
    for registration in promoted:
        registration.status = Registration.Status.CONFIRMED
        registration.save(update_fields=["status"])
        log_action(
            registration,
            RegistrationLog.Action.PROMOTED,
            from_status=Registration.Status.WAITLISTED,
            actor=actor,
            note=note,
        )
        queue(registration=registration, kind=MailKind.PROMOTED)
    _take_seats(event.pk, len(promoted))
    event.seats_taken += len(promoted)
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

    Raises RegistrationError ("already_cancelled") when it is cancelled already:
    cancelled stays cancelled; ("ended") once the talk is over.
    """
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Registration.Status.CANCELLED:
            registration.status, registration.cancelled_at = current.status, current.cancelled_at
            raise RegistrationError("This registration is already cancelled.", code="already_cancelled")
        if event.is_past():
            # The seat is history by now; a cancelling invite would only clutter calendars.
            raise RegistrationError("This talk has already taken place.", code="ended")
        from_status = current.status
        current.status = Registration.Status.CANCELLED
        current.cancelled_at = timezone.now()
        current.save(update_fields=["status", "cancelled_at"])
        log_action(current, RegistrationLog.Action.CANCELLED, from_status=from_status, actor=actor, note=note)
        cancel_invites(Registration.objects.filter(pk=current.pk), from_status == Registration.Status.CONFIRMED)
        queue(
            registration=current,
            kind=MailKind.CANCELLATION,
            data={"cancels_invite": from_status == Registration.Status.CONFIRMED},
        )
        promoted = []
        if from_status == Registration.Status.CONFIRMED:
            _take_seats(event.pk, -1)
            if _promotes_automatically(event):
                promoted = _fill_free_seats(event, actor=actor, note=f"Seat freed by a cancellation ({current.pk}).")
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
            raise RegistrationError("This talk was cancelled: nobody can be promoted.", code="cancelled")
        promoted = _fill_free_seats(locked, actor=actor, note="Promoted by an organizer.")
    event.seats_taken = locked.seats_taken
    return promoted


def change_capacity(*, event: Event, capacity: int, actor=None) -> list[Registration]:
    """Set the number of seats of `event`; raising it promotes from the waiting list at once.

    Raises RegistrationError ("capacity_below_taken") when `capacity` is
    below the number of people already holding a seat (cancel registrations
    first), or ("invalid") when it is negative. Returns the promoted
    registrations. `event.capacity` and `event.seats_taken` are updated in place.
    """
    if capacity is None or capacity < 0:
        raise RegistrationError("The capacity must be zero or more.", code="invalid")
    with transaction.atomic():
        locked = lock_event(event.pk)
        if capacity < locked.seats_taken:
            raise RegistrationError(
                f"{locked.seats_taken} people already hold a seat, so the capacity cannot be lowered to "
                f"{capacity}. Cancel registrations first.",
                code="capacity_below_taken",
            )
        Event.objects.filter(pk=locked.pk).update(capacity=capacity)
        promoted = []
        if _promotes_automatically(locked):
            promoted = _fill_free_seats(locked, actor=actor, note=f"Capacity changed to {capacity}.")
        else:
            locked.refresh_from_db(fields=["capacity", "seats_taken"])
    event.capacity, event.seats_taken = locked.capacity, locked.seats_taken
    return promoted

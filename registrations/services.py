"""Every change to registrations and seats happens here.

Where capacity is enforced: every function that changes who holds a seat
starts by locking the talk's row (`SELECT ... FOR UPDATE`), so on PostgreSQL
all seat changes for one talk run one after the other. Inside that lock the
seat counter `Event.seats_taken` is read, decided on and changed with F()
updates; the check constraint on the event table (0 <= seats_taken <=
capacity) backs this up should any code path forget the rule.

Views, admin actions, commands and tasks call these functions and never
repeat their rules. Mail is only queued (an outbox row in the same
transaction), never sent from here.
"""

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, F, QuerySet, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from events.when import moment_text
from outbox import services as outbox
from outbox.models import OutgoingMail

from .mail import ERASED_REASON, queue, reminders_sent
from .models import Answer, MailKind, Registration, RegistrationLog, new_key


class RegistrationError(Exception):
    """A registration rule said no. `message` is written for the person who asked."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message


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


def _lock_event(event_id: int) -> Event:
    # The one lock that serializes every seat change of a talk.
    # of=("self",): lock the talk only, not its venue (other talks share it).
    return Event.objects.select_for_update(of=("self",)).select_related("venue").get(pk=event_id)


def _active_with_email(event_id: int, email: str):
    # Compared exactly as the unique constraint does: lower() in the database.
    return (
        Registration.objects.active()
        .filter(event_id=event_id)
        .alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(Value(email)))
    )


def _log(registration: Registration, action: str, *, from_status: str = "", actor=None, note: str = ""):
    return RegistrationLog.objects.create(
        registration=registration,
        action=action,
        from_status=from_status,
        to_status=registration.status,
        actor=actor,
        note=note[:500],
    )


def _take_seats(event_id: int, count: int) -> None:
    if count:
        Event.objects.filter(pk=event_id).update(seats_taken=F("seats_taken") + count)


def _already_registered(existing: Registration, *, actor=None) -> RegistrationResult:
    mail = queue(registration=existing, kind=MailKind.RESEND)
    if mail is not None:
        _log(
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
        locked = _lock_event(event.pk)
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
            _log(registration, RegistrationLog.Action.REGISTERED, actor=actor)
            queue(registration=registration, kind=MailKind.CONFIRMATION)
        else:
            _log(registration, RegistrationLog.Action.WAITLISTED, actor=actor)
            queue(registration=registration, kind=MailKind.WAITLISTED)
    return RegistrationResult(registration=registration, created=True)


def resend_links(*, email: str, now=None) -> int:
    """Queue the self-service link again for every active registration of `email` to a talk not yet over.

    For the "Lost your link?" page. The address is compared trimmed and
    case-insensitively; talks that are cancelled or have ended are left out.
    Each registration gets its own RESEND message (the outbox drops one when
    its confirmation went out within RESEND_INTERVAL). Returns the number
    queued, which the caller must not show: the page never tells whether an
    address is registered. Raises nothing.
    """
    email = (email or "").strip()
    if not email:
        return 0
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        registrations = (
            Registration.objects.active()
            .filter(event__status=Event.Status.PUBLISHED, event__end__gt=now, erased_at__isnull=True)
            .alias(email_lower=Lower("email"))
            .filter(email_lower=Lower(Value(email)))
            .order_by("event__start", "pk")
        )
        for registration in registrations:
            if queue(registration=registration, kind=MailKind.RESEND) is not None:
                _log(
                    registration,
                    RegistrationLog.Action.CONFIRMATION_RESENT,
                    from_status=registration.status,
                    note="Asked for the link again.",
                )
                queued += 1
    return queued


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
        _log(
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
        event = _lock_event(registration.event_id)
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
        _log(current, RegistrationLog.Action.CANCELLED, from_status=from_status, actor=actor, note=note)
        _cancel_invites(Registration.objects.filter(pk=current.pk), from_status == Registration.Status.CONFIRMED)
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
        locked = _lock_event(event.pk)
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
        locked = _lock_event(event.pk)
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


def check_in(*, registration: Registration, actor=None) -> Registration:
    """Record that a confirmed registrant arrived.

    Raises RegistrationError ("not_confirmed") for a waitlisted or cancelled
    registration and ("already_checked_in") when it was checked in before.
    """
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status != Registration.Status.CONFIRMED:
            raise RegistrationError(
                f"Only confirmed registrations can be checked in; this one is {current.get_status_display().lower()}.",
                code="not_confirmed",
            )
        if current.checked_in_at is not None:
            raise RegistrationError("This person is already checked in.", code="already_checked_in")
        current.checked_in_at = timezone.now()
        current.save(update_fields=["checked_in_at"])
        _log(current, RegistrationLog.Action.CHECKED_IN, from_status=current.status, actor=actor)
    registration.checked_in_at = current.checked_in_at
    return current


ERASED_NAME = "Erased"


def erase_personal_data(*, registrations: QuerySet | Iterable[Registration], actor=None, note: str = "") -> int:
    """Remove who registered from `registrations`, keeping what happened; return how many were erased.

    Name becomes "Erased", the email a unique address under the reserved
    .invalid domain (nothing can be delivered there, and the one-address-per-talk
    constraint still holds), affiliation empty, answers to the talk's questions
    deleted; the self-service link stops working. Status, times and position stay: position is one of six coarse
    categories, which identifies nobody, and keeps the audience statistics of
    past talks true. Provider error texts that may quote the address are
    cleared from the history and the outbox. Messages still pending for these
    registrations are marked skipped in the same transaction (the outbox also
    refuses to send anything to an erased registration later).

    Precondition: none about timing. The retention command passes only
    registrations of talks that have ended. An organizer erasing on request
    may pass any registration: one still active (confirmed or waiting) for a
    talk that has not ended is first cancelled through `cancel_registration`,
    so its seat goes to the next in line, rather than refused: the person asked
    to be forgotten, and a refusal would only make the organizer do the same
    two steps by hand. They get no cancellation email (their address is gone
    by the time it would be sent); whoever handles the request answers them.

    Idempotent: an erased registration is left alone and logs nothing.
    Raises nothing of its own; database errors roll the erasure back.
    """
    now = timezone.now()
    if isinstance(registrations, QuerySet):
        pks = list(registrations.values_list("pk", flat=True))
    else:
        pks = [registration.pk for registration in registrations]
    with transaction.atomic():
        ids = list(Registration.objects.filter(pk__in=pks, erased_at__isnull=True).values_list("pk", flat=True))
        if not ids:
            return 0
        # The outbox worker locks a message before its registration; skipping
        # the pending messages first takes the locks in that same order.
        _skip_pending_mail(ids)
        for registration in (
            Registration.objects.filter(pk__in=ids, event__end__gt=now).active().order_by("event_id", "pk")
        ):
            with suppress(RegistrationError):  # cancelled or over meanwhile: it holds no seat
                cancel_registration(registration=registration, actor=actor, note="Cancelled to erase personal data.")
        erased = list(
            Registration.objects.select_for_update()
            .filter(pk__in=ids, erased_at__isnull=True)
            .order_by("pk")
            .only("pk", "status")
        )
        ids = [registration.pk for registration in erased]
        pk_text = Cast("pk", output_field=CharField())
        # Answers may say anything about a person (health, diet, ...): they go entirely.
        Answer.objects.filter(registration_id__in=ids).delete()
        Registration.objects.filter(pk__in=ids).update(
            name=ERASED_NAME,
            email=Concat(Value("erased-"), pk_text, Value("@erased.invalid")),
            affiliation="",
            # Old self-service links stop working; the signature keeps keys unguessable.
            key=Concat(Value(f"erased-{new_key()[:20]}-"), pk_text),
            erased_at=now,
        )
        # The cancellation messages just queued, and promotions among `ids`.
        _skip_pending_mail(ids)
        # The outbox keeps the address each message went to, and provider
        # and SMTP error texts often quote it.
        outbox.forget_recipients(mails=OutgoingMail.objects.about(Registration.objects.filter(pk__in=ids)))
        RegistrationLog.objects.filter(
            registration_id__in=ids,
            action__in=[RegistrationLog.Action.EMAIL_BOUNCED, RegistrationLog.Action.EMAIL_FAILED],
        ).exclude(note="").update(note="")
        RegistrationLog.objects.bulk_create(
            RegistrationLog(
                registration_id=registration.pk,
                action=RegistrationLog.Action.ERASED,
                from_status=registration.status,
                to_status=registration.status,
                actor=actor,
                note=note[:500],
            )
            for registration in erased
        )
    return len(erased)


def _skip_pending_mail(registration_ids: list[int]) -> None:
    outbox.skip_pending(
        mails=OutgoingMail.objects.about(Registration.objects.filter(pk__in=registration_ids)), reason=ERASED_REASON
    )


# ---------------------------------------------------------------------------
# Email and calendar: talk changes, reminders, the outbox, bounces.
# ---------------------------------------------------------------------------


def update_wanted_by_default(changed_fields) -> bool:
    """The rule calendar apps follow: a new time or place is sent to registrants, new wording is not."""
    # "status": a cancelled talk back on, whose invites were cancelled.
    return bool(set(changed_fields) & {*Event.TIME_AND_PLACE_FIELDS, "status"})


def send_event_update(*, event: Event, changed_fields=frozenset(), actor=None) -> int:
    """Send every confirmed registrant of `event` an update of their invite; return how many.

    Each gets an EVENT_CHANGED email whose invite carries a SEQUENCE one
    higher than the last they were sent, so calendars replace the entry with
    the talk as it is when the email goes out. `changed_fields` (names from
    Event.TIME_AND_PLACE_FIELDS and Event.TEXT_FIELDS) picks the wording: a
    new time or place, or new details. Whether to call this is the caller's
    decision (the event admin asks the organizer; update_wanted_by_default is
    the rule for changes nobody was asked about).

    Precondition: the change to `event` is committed. Raises nothing of its own.
    """
    changed = sorted(set(changed_fields)) or list(Event.TIME_AND_PLACE_FIELDS)
    with transaction.atomic():
        registrations = Registration.objects.filter(event=event).confirmed()
        Registration.objects.filter(pk__in=registrations.values("pk")).update(invite_sequence=F("invite_sequence") + 1)
        registrations = list(registrations.select_for_update())
        for registration in registrations:
            queue(registration=registration, kind=MailKind.EVENT_CHANGED, data={"changed": changed})
            _log(
                registration,
                RegistrationLog.Action.UPDATE_SENT,
                from_status=registration.status,
                actor=actor,
                note=", ".join(changed),
            )
    return len(registrations)


def _cancel_invites(registrations, had_invites: bool = True) -> None:
    # A cancelling invite must outrank the last invite sent.
    if had_invites:
        registrations.update(invite_sequence=F("invite_sequence") + 1)


def notify_event_cancelled(*, event: Event) -> int:
    """Queue an EVENT_CANCELLED email to everyone still registered, confirmed or waiting.

    Confirmed registrants' emails carry a cancelling invite. Precondition: the
    cancellation is committed. Returns the number queued.
    """
    with transaction.atomic():
        _cancel_invites(Registration.objects.filter(event=event).confirmed())
        registrations = list(Registration.objects.filter(event=event).active())
        for registration in registrations:
            queue(
                registration=registration,
                kind=MailKind.EVENT_CANCELLED,
                data={"cancels_invite": registration.status == Registration.Status.CONFIRMED},
            )
    return len(registrations)


def reminder_time(event: Event):
    return event.start - settings.REMINDER_BEFORE


def queue_due_reminders(*, now=None) -> int:
    """Queue the reminder for every published talk whose reminder time has come.

    Once per confirmed registrant and talk start (a talk that moves gets a new
    reminder for its new time), never after the talk started, and not to people
    who registered after the reminder time: their confirmation is fresh. Safe to
    run concurrently: a unique constraint drops a second copy. Returns the number queued.
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
            # None: another sweep queued it a moment ago (the outbox's once-key constraint).
            if queue(registration=registration, kind=MailKind.REMINDER, reminder_for=event.start) is not None:
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
        _log(
            registration,
            RegistrationLog.Action.EMAIL_BOUNCED,
            from_status=registration.status,
            note=f"{mail.kind_label}: {event_type}. {description}".strip()[:500],
        )
    return registration


def log_email_failed(*, mail: OutgoingMail) -> None:
    """Record in the registration's history that outbox message `mail` failed for good."""
    registration = Registration.objects.get(pk=mail.about_id)
    _log(
        registration,
        RegistrationLog.Action.EMAIL_FAILED,
        from_status=registration.status,
        note=f"{mail.kind_label}: {mail.last_error}",
    )

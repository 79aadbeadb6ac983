"""Checking registrants in at the door."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Registration, RegistrationLog
from .base import RegistrationError, lock_event, log_action


def check_in(*, registration: Registration, actor=None) -> Registration:
    """Record that a confirmed registrant arrived.

    Someone whose seat is held until they confirm by email is here, which
    proves more than the email would: the seat becomes theirs (no email) and
    they are checked in.

    Raises RegistrationError ("not_confirmed") for a waitlisted or cancelled
    registration, ("online") for one attending online (checked in nowhere: only
    the room has a door), and ("already_checked_in") when it was checked in before.
    """
    with transaction.atomic():
        if registration.status != Registration.Status.CONFIRMED:
            # A held seat is confirmed under the talk's lock, as every seat change is.
            lock_event(registration.event_id)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status == Registration.Status.HELD and not current.is_online:
            current.status, current.hold_until = Registration.Status.CONFIRMED, None
            current.save(update_fields=["status", "hold_until"])
            log_action(
                current,
                RegistrationLog.Action.HOLD_CONFIRMED,
                from_status=Registration.Status.HELD,
                actor=actor,
                note=_("Confirmed at the door."),
            )
        if current.status != Registration.Status.CONFIRMED:
            raise RegistrationError(
                _("Only confirmed registrations can be checked in; this one is %(status)s.")
                % {"status": current.get_status_display().lower()},
                code="not_confirmed",
            )
        if current.is_online:
            raise RegistrationError(
                _("People attending online are not checked in: only a seat in the room is."), code="online"
            )
        if current.checked_in_at is not None:
            raise RegistrationError(_("This person is already checked in."), code="already_checked_in")
        current.checked_in_at = timezone.now()
        current.no_show_at = None  # came late after all
        current.save(update_fields=["checked_in_at", "no_show_at"])
        log_action(current, RegistrationLog.Action.CHECKED_IN, from_status=current.status, actor=actor)
    registration.status, registration.hold_until = current.status, current.hold_until
    registration.checked_in_at = current.checked_in_at
    return current

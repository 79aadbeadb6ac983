"""Every change to registrations and seats happens in this package, one module per concern.

signup.py (register), seats.py (cancel, promote, capacity: where capacity is enforced),
holds.py (seats held until confirmed by email, seats offered near the start, releasing those
not confirmed in time), online.py (switching sides, the stream link), checkin.py, erasure.py,
notifications.py (talk updates, reminders, lost links, bounces). Views, admin actions, commands
and tasks call these functions through this package (`from registrations import services`) and
never repeat their rules. Mail is only queued (an outbox row in the same transaction), never
sent from here.
"""

from .base import RegistrationError
from .checkin import check_in
from .erasure import ERASED_NAME, erase_personal_data
from .holds import confirm_hold, decline_offer, free_seat, release_expired_holds
from .notifications import (
    announce_talk_changes,
    log_email_failed,
    mark_email_bounced,
    notify_event_cancelled,
    notify_event_reinstated,
    queue_due_reminders,
    reminder_time,
    resend_links,
    send_event_update,
    update_wanted_by_default,
)
from .online import queue_due_stream_links, send_stream_link, stream_link_recipients, switch_attendance
from .seats import (
    IN_PERSON,
    ONLINE,
    cancel_registration,
    change_capacity,
    change_online_capacity,
    check_attendance_offered,
    check_door_open,
    check_registration_open,
    decide_status,
    has_free_place,
    places,
    promote_waitlist,
    seat_waitlisted,
)
from .signup import RegistrationResult, register

__all__ = [
    "ERASED_NAME",
    "IN_PERSON",
    "ONLINE",
    "RegistrationError",
    "RegistrationResult",
    "announce_talk_changes",
    "cancel_registration",
    "change_capacity",
    "change_online_capacity",
    "check_attendance_offered",
    "check_door_open",
    "check_in",
    "check_registration_open",
    "confirm_hold",
    "decide_status",
    "decline_offer",
    "erase_personal_data",
    "free_seat",
    "has_free_place",
    "log_email_failed",
    "mark_email_bounced",
    "notify_event_cancelled",
    "notify_event_reinstated",
    "places",
    "promote_waitlist",
    "queue_due_reminders",
    "queue_due_stream_links",
    "register",
    "release_expired_holds",
    "reminder_time",
    "resend_links",
    "seat_waitlisted",
    "send_event_update",
    "send_stream_link",
    "stream_link_recipients",
    "switch_attendance",
    "update_wanted_by_default",
]

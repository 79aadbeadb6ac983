"""What a service recorded, read back (mail queued, history, seats taken); one registration per way of attending."""

from events.models import Event
from registrations import services
from registrations.models import Registration


def mail_kinds(registration):
    return sorted(registration.outgoing_mails.values_list("kind", flat=True))


def log_actions(registration):
    return list(registration.log.values_list("action", "from_status", "to_status"))


def seats_taken(event):
    event.refresh_from_db()
    return event.seats_taken


HYBRID = Event.AttendanceMode.HYBRID
ONLINE = Registration.Attendance.ONLINE
IN_PERSON = Registration.Attendance.IN_PERSON


def attend(event, n, attendance):
    """Person `n` registers for `event`, in the room or online."""
    return services.register(
        event=event, name=f"Person {n}", email=f"p{n}@example.edu", attendance=attendance
    ).registration

"""What every registration service shares: the domain exception, the event lock, the history entry."""

from events.models import Event
from seminar_site import pagecache

from ..models import Registration, RegistrationLog


class RegistrationError(Exception):
    """A registration rule said no. `message` is written for the person who asked."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message


def lock_event(event_id: int) -> Event:
    # The one lock that serializes every seat change of a talk.
    # of=("self",): lock the talk only, not its venue (other talks share it).
    event = Event.objects.select_for_update(of=("self",)).select_related("venue").get(pk=event_id)
    # Whoever takes this lock may change what the talk's page shows (seats
    # left, the waiting list): its cached copy goes when the change commits.
    pagecache.changed(pagecache.talk_tag(event.slug))
    return event


def log_action(registration: Registration, action: str, *, from_status: str = "", actor=None, note: str = ""):
    return RegistrationLog.objects.create(
        registration=registration,
        action=action,
        from_status=from_status,
        to_status=registration.status,
        actor=actor,
        note=note[:500],
    )

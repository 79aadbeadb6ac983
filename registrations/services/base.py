"""What every registration service shares: the domain exception, the event lock, the history entry."""

from events.models import Event
from seminar_site import pagecache
from seminar_site.errors import DomainError
from seminar_site.statements import Parameter, PreparedGet, PreparedInsert

from ..models import Registration, RegistrationLog


class RegistrationError(DomainError):
    """A registration rule said no."""


# The one lock that serializes every seat change of a talk (the same row lock an UPDATE of the
# talk's row takes, as a sign-up's taking of a seat does: services/seats.py).
# of=("self",): lock the talk only, not its venue (other talks share it).
# no_key: on PostgreSQL FOR NO KEY UPDATE, which lets sign-ups insert their rows (their foreign
# key takes KEY SHARE on the talk) before they take the lock; FOR UPDATE would make two of them,
# each holding KEY SHARE, wait for each other.
# Every seat change takes it: compiled once, not per seat change (seminar_site/statements.py).
_LOCKED_TALK = PreparedGet(
    Event,
    lambda: (
        Event.objects.select_for_update(of=("self",), no_key=True)
        .select_related("venue")
        .filter(pk=Parameter("pk", Event._meta.pk))
    ),
)


def lock_event(event_id: int) -> Event:
    event = _LOCKED_TALK.get(pk=event_id)
    # Whoever takes this lock may change what the talk's page shows (seats
    # left, the waiting list): its cached copy goes when the change commits.
    pagecache.changed(pagecache.talk_tag(event.slug))
    return event


# Every change of a registration writes one: compiled once (seminar_site/statements.py).
NEW_LOG_ENTRY = PreparedInsert(RegistrationLog)


def log_action(registration: Registration, action: str, *, from_status: str = "", actor=None, note: str = ""):
    return NEW_LOG_ENTRY.insert(new_log_entry(registration, action, from_status=from_status, actor=actor, note=note))


def new_log_entry(
    registration: Registration, action: str, *, from_status: str = "", actor=None, note: str = ""
) -> RegistrationLog:
    """The history entry `log_action` writes, not written (for a caller that writes it with other rows)."""
    return RegistrationLog(
        registration=registration,
        action=action,
        from_status=from_status,
        to_status=registration.status,
        actor=actor,
        note=note[:500],
    )

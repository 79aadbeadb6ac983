import pytest


@pytest.fixture
def outbox_row():
    """An outbox row about a registration, written directly (as a worker or an older sweep left it)."""
    from outbox.models import OutgoingMail
    from registrations.mail import reminder_key

    def make(registration, kind, *, reminder_for=None, **fields):
        once_key = reminder_key(reminder_for) if reminder_for else ""
        return OutgoingMail.objects.create(
            kind=kind, about=registration, recipient=registration.email, once_key=once_key, **fields
        )

    return make

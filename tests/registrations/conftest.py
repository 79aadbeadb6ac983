import itertools

import pytest

from registrations import services

_numbers = itertools.count(1)


@pytest.fixture
def sign_up():
    """Register one more person for a talk through the service; keyword arguments override."""

    def sign_up(event, **fields):
        n = next(_numbers)
        defaults = {"name": f"Person {n}", "email": f"person{n}@example.edu"}
        return services.register(event=event, **(defaults | fields)).registration

    return sign_up


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

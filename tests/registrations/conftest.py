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

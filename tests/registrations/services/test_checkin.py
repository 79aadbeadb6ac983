import pytest

from registrations import services
from registrations.models import Registration, RegistrationLog
from registrations.services import RegistrationError
from tests.registrations.services.records import log_actions

pytestmark = pytest.mark.django_db


def test_check_in_records_time_and_history(event, sign_up):
    registration = sign_up(event)

    services.check_in(registration=registration)

    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert log_actions(registration)[-1] == (RegistrationLog.Action.CHECKED_IN, "confirmed", "confirmed")
    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=registration)
    assert refused.value.code == "already_checked_in"


def test_check_in_refuses_waitlisted(make_event, sign_up):
    event = make_event(capacity=0)
    waiting = sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=waiting)

    assert refused.value.code == "not_confirmed"


def test_check_in_refuses_someone_attending_online(make_event, sign_up):
    event = make_event(attendance_mode="hybrid", stream_url="https://zoom.example/j/1")
    online = sign_up(event, attendance="online")

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=online)

    assert refused.value.code == "online"
    assert Registration.objects.get(pk=online.pk).checked_in_at is None

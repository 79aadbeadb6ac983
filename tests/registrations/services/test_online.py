import pytest

from events.models import Event
from registrations import services
from registrations.models import MailKind, RegistrationLog
from registrations.services import RegistrationError
from tests.registrations.services.records import HYBRID, IN_PERSON, ONLINE, attend

pytestmark = pytest.mark.django_db


def test_someone_waiting_for_the_room_switches_to_online_in_one_step(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    attend(event, 0, IN_PERSON)
    switcher = attend(event, 1, IN_PERSON)
    behind = attend(event, 2, IN_PERSON)

    promoted = services.switch_attendance(registration=switcher, attendance=ONLINE)

    assert promoted == []
    switcher.refresh_from_db()
    assert (switcher.attendance, switcher.status) == (ONLINE, "confirmed")
    assert behind.waitlist_position() == 1
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)
    assert switcher.log.last().action == RegistrationLog.Action.SWITCHED
    assert switcher.outgoing_mails.filter(kind=MailKind.ATTENDANCE_SWITCHED).count() == 1


def test_leaving_the_room_for_online_gives_the_seat_to_the_next_in_line(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    holder = attend(event, 0, IN_PERSON)
    waiter = attend(event, 1, IN_PERSON)

    promoted = services.switch_attendance(registration=holder, attendance=ONLINE)

    assert promoted == [waiter]
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)


def test_back_to_the_room_only_when_a_seat_is_free(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)
    holder = attend(event, 0, IN_PERSON)
    online = attend(event, 1, ONLINE)

    with pytest.raises(RegistrationError) as error:
        services.switch_attendance(registration=online, attendance=IN_PERSON)
    assert error.value.code == "full"

    services.cancel_registration(registration=holder)
    services.switch_attendance(registration=online, attendance=IN_PERSON)

    online.refresh_from_db()
    assert (online.attendance, online.status) == (IN_PERSON, "confirmed")
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 0)


@pytest.mark.parametrize(
    ("setup", "code"),
    [("same", "same"), ("full_online", "full"), ("cancelled", "cancelled"), ("in_person_only", "attendance")],
)
def test_switching_is_refused_with_a_reason(make_event, setup, code):
    mode = Event.AttendanceMode.IN_PERSON if setup == "in_person_only" else HYBRID
    event = make_event(attendance_mode=mode, capacity=1, online_capacity=0 if setup == "full_online" else None)
    registration = attend(event, 0, IN_PERSON)
    target = IN_PERSON if setup == "same" else ONLINE
    if setup == "cancelled":
        services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError) as error:
        services.switch_attendance(registration=registration, attendance=target)

    assert error.value.code == code
    registration.refresh_from_db()
    assert registration.attendance == IN_PERSON

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from checkin import services
from events.models import Event
from registrations.models import MailKind, Registration, RegistrationLog
from registrations.services import RegistrationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(db):
    return get_user_model().objects.create_user("dora", password="pw-dora-1", is_staff=True)


def started(event):
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(minutes=10), end=timezone.now() + datetime.timedelta(minutes=50)
    )
    event.refresh_from_db()
    return event


def entries(registration, action):
    return list(RegistrationLog.objects.filter(registration=registration, action=action))


def test_check_in_is_idempotent_and_recorded_with_who_did_it(event, sign_up, door):
    registration = sign_up(event)

    first = services.check_in(registration=registration, actor=door)
    second = services.check_in(registration=registration, actor=door)

    assert (first.already, second.already) == (False, True)
    assert second.registration.checked_in_at == first.registration.checked_in_at
    [entry] = entries(registration, RegistrationLog.Action.CHECKED_IN)
    assert entry.actor == door


@pytest.mark.parametrize("status", ["waitlisted", "cancelled"])
def test_only_confirmed_people_are_checked_in(make_event, sign_up, door, status):
    event = make_event(capacity=1)
    sign_up(event)
    registration = sign_up(event)
    if status == "cancelled":
        from registrations.services import cancel_registration

        cancel_registration(registration=registration)

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=registration, actor=door)

    assert refused.value.code == "not_confirmed"
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_undo_takes_back_a_check_in_and_says_so_in_the_history(event, sign_up, door):
    registration = sign_up(event)
    services.check_in(registration=registration, actor=door)

    assert services.undo_check_in(registration=registration, actor=door) is True
    assert services.undo_check_in(registration=registration, actor=door) is False

    assert Registration.objects.get(pk=registration.pk).checked_in_at is None
    [entry] = entries(registration, RegistrationLog.Action.CHECK_IN_UNDONE)
    assert entry.actor == door and entry.note.startswith("Was checked in at ")


def test_walk_in_takes_a_free_seat_and_is_checked_in(make_event, door):
    event = started(make_event(capacity=2))

    result = services.admit_walk_in(
        event=event, name="Wal Kin", email="wal@example.edu", affiliation="Oden", over_capacity=False, actor=door
    )

    registration = result.registration
    assert (registration.status, registration.checked_in_at is not None) == ("confirmed", True)
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (2, 1)
    assert entries(registration, RegistrationLog.Action.WALK_IN)[0].actor == door


def test_walk_in_to_a_full_talk_needs_the_explicit_choice(make_event, sign_up, door):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event)
    started(event)

    with pytest.raises(RegistrationError) as refused:
        services.admit_walk_in(event=event, name="Wal", email="wal@example.edu", over_capacity=False, actor=door)
    assert refused.value.code == "full"
    assert not Registration.objects.filter(email="wal@example.edu").exists()
    event.refresh_from_db()
    assert event.capacity == 1

    result = services.admit_walk_in(event=event, name="Wal", email="wal@example.edu", over_capacity=True, actor=door)

    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (2, 2)
    assert result.registration.checked_in_at is not None
    [walk_in] = entries(result.registration, RegistrationLog.Action.WALK_IN)
    assert "over capacity" in walk_in.note and "from 1 to 2" in walk_in.note
    assert walk_in.actor == door
    assert Registration.objects.get(pk=waiting.pk).status == "waitlisted"


def test_someone_on_the_waiting_list_at_the_door_is_seated(make_event, sign_up, door):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event, email="wait@example.edu")
    started(event)

    result = services.admit_walk_in(event=event, name="W", email="WAIT@example.edu", over_capacity=True, actor=door)

    assert result.registration.pk == waiting.pk
    waiting.refresh_from_db()
    assert (waiting.status, waiting.checked_in_at is not None) == ("confirmed", True)
    assert Registration.objects.filter(event=event).count() == 2


def test_a_registered_person_at_the_walk_in_form_is_just_checked_in(event, sign_up, door):
    registration = sign_up(event, email="ana@example.edu")

    result = services.admit_walk_in(event=event, name="Ana", email="Ana@Example.edu", over_capacity=False, actor=door)

    assert result.registration.pk == registration.pk
    assert Registration.objects.filter(event=event).count() == 1


def test_a_registered_person_is_found_at_the_walk_in_form_in_either_spelling_of_their_domain(event, sign_up, door):
    # Registered from a browser: the domain in ASCII. Typed at the door as written.
    registration = sign_up(event, email="jose@xn--mnchen-3ya.example")

    result = services.admit_walk_in(
        event=event, name="José", email="Jose@München.example", over_capacity=False, actor=door
    )

    assert result.registration.pk == registration.pk
    assert result.registration.checked_in_at is not None
    assert Registration.objects.filter(event=event).count() == 1
    # Checked in as the registered person: not a walk-in, and not emailed as if they had registered again.
    assert not registration.log.filter(action=RegistrationLog.Action.WALK_IN).exists()
    assert not registration.outgoing_mails.filter(kind=MailKind.RESEND).exists()


def test_no_walk_ins_once_the_talk_is_over(make_event, door):
    event = make_event()
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    with pytest.raises(RegistrationError) as refused:
        services.admit_walk_in(event=event, name="Late", email="late@example.edu", over_capacity=True, actor=door)
    assert refused.value.code == "ended"


def test_mark_no_shows_after_the_start_only_and_once(make_event, sign_up, door):
    event = make_event(capacity=3)
    came, missed, also_missed = sign_up(event), sign_up(event), sign_up(event)
    with pytest.raises(RegistrationError):
        services.mark_no_shows(event=event, actor=door)
    started(event)
    services.check_in(registration=came, actor=door)

    assert services.mark_no_shows(event=event, actor=door) == 2
    assert services.mark_no_shows(event=event, actor=door) == 0

    assert {r.pk for r in Registration.objects.filter(no_show_at__isnull=False)} == {missed.pk, also_missed.pk}
    assert entries(missed, RegistrationLog.Action.NO_SHOW)[0].actor == door
    services.check_in(registration=missed, actor=door)  # came late after all
    assert Registration.objects.get(pk=missed.pk).no_show_at is None


# In the room and online


@pytest.fixture
def hybrid(make_event):
    return make_event(attendance_mode="hybrid", capacity=1, online_capacity=5, stream_url="https://zoom.example/j/1")


def test_someone_attending_online_is_not_checked_in_at_the_door(hybrid, sign_up, door):
    registration = sign_up(hybrid, attendance="online")

    with pytest.raises(RegistrationError) as refused:
        services.check_in(registration=registration, actor=door)

    assert refused.value.code == "online"
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_someone_registered_online_who_comes_to_the_room_gets_a_seat_as_a_walk_in(hybrid, sign_up, door):
    registration = sign_up(hybrid, name="Ona Line", email="ona@example.edu", attendance="online")

    result = services.admit_walk_in(
        event=hybrid, name="Ona Line", email="ONA@example.edu", over_capacity=False, actor=door
    )

    assert result.registration.pk == registration.pk
    registration.refresh_from_db()
    hybrid.refresh_from_db()
    assert (registration.attendance, registration.status) == ("in_person", "confirmed")
    assert registration.checked_in_at is not None
    assert (hybrid.seats_taken, hybrid.online_seats_taken) == (1, 0)
    assert entries(registration, RegistrationLog.Action.WALK_IN)[0].actor == door


def test_an_online_registrant_at_a_full_room_needs_the_explicit_choice(hybrid, sign_up, door):
    sign_up(hybrid, attendance="in_person")
    registration = sign_up(hybrid, email="ona@example.edu", attendance="online")

    with pytest.raises(RegistrationError) as refused:
        services.admit_walk_in(event=hybrid, name="Ona", email="ona@example.edu", over_capacity=False, actor=door)
    assert refused.value.code == "full"
    assert Registration.objects.get(pk=registration.pk).attendance == "online"

    services.admit_walk_in(event=hybrid, name="Ona", email="ona@example.edu", over_capacity=True, actor=door)
    hybrid.refresh_from_db()
    assert (hybrid.capacity, hybrid.seats_taken) == (2, 2)
    [entry] = entries(registration, RegistrationLog.Action.WALK_IN)
    assert "over capacity" in entry.note


def test_no_walk_ins_at_an_online_only_talk(make_event, door):
    event = make_event(attendance_mode="online")
    with pytest.raises(RegistrationError) as refused:
        services.admit_walk_in(event=event, name="Wal", email="wal@example.edu", over_capacity=True, actor=door)
    assert refused.value.code == "attendance"
    assert not Registration.objects.exists()


def test_people_attending_online_are_never_no_shows(hybrid, sign_up, door):
    room = sign_up(hybrid, attendance="in_person")
    online = sign_up(hybrid, attendance="online")
    started(hybrid)

    assert services.mark_no_shows(event=hybrid, actor=door) == 1

    assert Registration.objects.get(pk=room.pk).no_show_at is not None
    assert Registration.objects.get(pk=online.pk).no_show_at is None


def test_no_undoing_a_check_in_once_the_talk_is_over(event, sign_up, door):
    came = sign_up(event)
    services.check_in(registration=came, actor=door)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    came.refresh_from_db()

    # It could not be made again (no check-ins after the talk): the attendance would be lost.
    with pytest.raises(RegistrationError) as refused:
        services.undo_check_in(registration=came, actor=door)
    assert refused.value.code == "ended"
    assert Registration.objects.get(pk=came.pk).checked_in_at is not None
    assert not entries(came, RegistrationLog.Action.CHECK_IN_UNDONE)

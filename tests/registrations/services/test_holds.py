"""Held seats, offers near the start, and releasing what is not confirmed in time (services/holds.py)."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox.models import OutgoingMail
from registrations import hold_rules, services
from registrations.models import MailKind, Registration, RegistrationLog
from registrations.services import RegistrationError
from tests.registrations.services.records import HYBRID, ONLINE, log_actions, mail_kinds, seats_taken

pytestmark = pytest.mark.django_db

Status, Reason, Action = Registration.Status, Registration.HoldReason, RegistrationLog.Action
MINUTE = datetime.timedelta(minutes=1)


def join(event, n, *, from_address=1, **fields):
    """Person `n` registers as over the web, their client address having made `from_address` sign-ups."""
    event.refresh_from_db()  # as each request reads the talk
    return services.register(
        event=event, name=f"Person {n}", email=f"p{n}@example.edu", signups_from_address=from_address, **fields
    ).registration


def crowd(event, n):
    """Person `n` registers from an address past HOLD_AFTER (10) sign-ups this hour."""
    return join(event, n, from_address=11)


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


# Who is held


def test_the_eleventh_sign_up_from_one_address_is_held_for_half_an_hour(make_event):
    event = make_event(capacity=40)
    before = timezone.now()

    tenth = join(event, 10, from_address=10)
    eleventh = join(event, 11, from_address=11)

    assert tenth.status == Status.CONFIRMED and tenth.hold_until is None
    assert eleventh.status == Status.HELD
    assert eleventh.hold_reason == Reason.ADDRESS
    assert before + 30 * MINUTE <= eleventh.hold_until <= timezone.now() + 30 * MINUTE
    # Counted against capacity at once, like a confirmed seat.
    assert seats_taken(event) == 2
    assert mail_kinds(eleventh) == [MailKind.HELD]
    assert log_actions(eleventh) == [(Action.HELD, "", "held")]


def test_hold_after_and_the_hold_time_are_read_when_registering(make_event, settings):
    settings.HOLD_AFTER, settings.SEAT_HOLD_MINUTES = "2", 5
    event = make_event()

    third = join(event, 3, from_address=3)

    assert third.status == Status.HELD
    assert third.hold_until <= timezone.now() + 5 * MINUTE
    settings.HOLD_AFTER = "off"
    assert join(event, 4, from_address=500).status == Status.CONFIRMED


def test_no_deadline_is_past_the_start(make_event):
    event = make_event(start=later(10))

    held = crowd(event, 1)

    assert held.hold_until == event.start


def test_the_organizers_flag_on_the_talk_or_its_series_holds_every_sign_up(make_event, series):
    talk = make_event(confirm_by_email=True)
    assert join(talk, 1).hold_reason == Reason.CONFIRM_BY_EMAIL

    series.confirm_by_email = True
    series.save()
    other = make_event()
    first = join(other, 2)
    assert (first.status, first.hold_reason) == (Status.HELD, Reason.CONFIRM_BY_EMAIL)


def test_a_talk_in_demand_holds_new_seats_but_not_waiting_list_places(make_event, settings):
    settings.HOLD_DEMAND = "50%/10m"
    event = make_event(capacity=4)

    people = [join(event, n) for n in range(6)]

    # Two of four seats within ten minutes is half: more than half is a rush.
    assert [p.status for p in people] == [Status.CONFIRMED] * 3 + [Status.HELD] + [Status.WAITLISTED] * 2
    assert people[3].hold_reason == Reason.DEMAND
    assert people[4].hold_until is None
    assert seats_taken(event) == 4


def test_sign_ups_outside_the_demand_window_are_no_rush(make_event, settings):
    settings.HOLD_DEMAND = "50%/10m"
    event = make_event(capacity=4)
    early = [join(event, n) for n in range(3)]
    Registration.objects.filter(pk__in=[p.pk for p in early]).update(created_at=timezone.now() - 11 * MINUTE)

    assert join(event, 3).status == Status.CONFIRMED


def test_staff_and_the_door_are_never_held(make_event, django_user_model):
    event = make_event(confirm_by_email=True)
    organizer = django_user_model.objects.create_user("organizer")

    by_staff = services.register(event=event, name="A", email="a@example.edu", actor=organizer).registration
    at_door = services.register(event=event, name="B", email="b@example.edu", at_door=True).registration

    assert by_staff.status == at_door.status == Status.CONFIRMED


def test_a_full_talk_asks_the_crowd_to_confirm_their_waiting_list_place(make_event):
    event = make_event(capacity=1)
    join(event, 0)

    waiting = crowd(event, 1)

    assert waiting.status == Status.WAITLISTED
    assert waiting.hold_reason == Reason.ADDRESS and waiting.hold_until is not None
    assert mail_kinds(waiting) == [MailKind.HELD]
    assert seats_taken(event) == 1


def test_held_and_confirmed_seats_never_pass_capacity(make_event):
    event = make_event(capacity=3)

    people = [crowd(event, n) for n in range(5)]

    assert [p.status for p in people] == [Status.HELD] * 3 + [Status.WAITLISTED] * 2
    assert seats_taken(event) == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=people[0].pk).update(hold_until=None)


def test_the_database_ties_the_deadline_to_the_status(event):
    held = crowd(event, 1)
    confirmed = join(event, 2)

    for pk, change in (
        (held.pk, {"hold_until": None}),
        (confirmed.pk, {"hold_until": timezone.now(), "hold_reason": Reason.ADDRESS}),
        (held.pk, {"hold_reason": ""}),
        (held.pk, {"hold_reason": "whim"}),
        (held.pk, {"status": "maybe"}),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.filter(pk=pk).update(**change)


# Confirming


def test_confirming_makes_the_seat_theirs_and_sends_the_confirmation_once(event):
    held = crowd(event, 1)

    confirmed = services.confirm_hold(registration=held)

    assert held.status == confirmed.status == Status.CONFIRMED
    held.refresh_from_db()
    assert held.hold_until is None and held.hold_reason == Reason.ADDRESS
    assert seats_taken(event) == 1
    assert mail_kinds(held) == [MailKind.CONFIRMATION, MailKind.HELD]
    with pytest.raises(RegistrationError) as pressed_again:
        services.confirm_hold(registration=held)
    assert pressed_again.value.code == "not_held"
    assert mail_kinds(held) == [MailKind.CONFIRMATION, MailKind.HELD]
    assert [a for a, _, _ in log_actions(held)] == [Action.HELD, Action.HOLD_CONFIRMED]


def test_confirming_a_waiting_list_place_keeps_it_without_a_deadline(make_event):
    event = make_event(capacity=1)
    join(event, 0)
    waiting = crowd(event, 1)

    services.confirm_hold(registration=waiting)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.hold_until) == (Status.WAITLISTED, None)
    assert mail_kinds(waiting) == [MailKind.HELD]


def test_a_press_after_the_deadline_releases_the_seat_to_the_next_in_line(make_event):
    event = make_event(capacity=1)
    held = crowd(event, 1)
    waiting = join(event, 2)

    with pytest.raises(RegistrationError) as late:
        services.confirm_hold(registration=held, now=held.hold_until + MINUTE)

    assert late.value.code == "released"
    assert held.status == Status.CANCELLED
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert seats_taken(event) == 1
    with pytest.raises(RegistrationError) as again:
        services.confirm_hold(registration=held)
    assert again.value.code == "released"


def test_a_cancelled_registration_cannot_be_confirmed(event):
    held = crowd(event, 1)
    services.cancel_registration(registration=held)

    with pytest.raises(RegistrationError) as refused:
        services.confirm_hold(registration=held)

    assert refused.value.code == "already_cancelled"
    assert seats_taken(event) == 0


# Releasing


def test_the_sweep_releases_expired_holds_once_and_promotes_in_order(make_event):
    event = make_event(capacity=2)
    held = [crowd(event, n) for n in range(2)]
    waiting = [join(event, n) for n in range(2, 5)]
    services.confirm_hold(registration=held[1])

    assert services.release_expired_holds(now=later(29)) == 0
    assert services.release_expired_holds(now=later(31)) == 1
    assert services.release_expired_holds(now=later(31)) == 0

    held[0].refresh_from_db()
    assert held[0].status == Status.CANCELLED and held[0].hold_until is None
    assert log_actions(held[0])[-1] == (Action.HOLD_EXPIRED, "held", "cancelled")
    # No message to the released: their email and page said the deadline.
    assert mail_kinds(held[0]) == [MailKind.HELD]
    statuses = [Registration.objects.get(pk=w.pk).status for w in waiting]
    assert statuses == [Status.CONFIRMED, Status.WAITLISTED, Status.WAITLISTED]
    assert mail_kinds(waiting[0]) == [MailKind.PROMOTED, MailKind.WAITLISTED]
    assert OutgoingMail.objects.get(kind=MailKind.PROMOTED).once_key == "promoted"
    assert seats_taken(event) == 2


def test_made_up_addresses_on_the_waiting_list_are_released_before_anyone_is_promoted(make_event):
    event = make_event(capacity=3)
    join(event, 0)
    script = [crowd(event, n) for n in range(1, 8)]  # two held seats, five places waiting for confirmation
    people = [join(event, n, from_address=1) for n in range(8, 11)]

    assert services.release_expired_holds(now=later(31)) == 7

    assert {Registration.objects.get(pk=s.pk).status for s in script} == {Status.CANCELLED}
    statuses = [Registration.objects.get(pk=p.pk).status for p in people]
    assert statuses == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]
    assert seats_taken(event) == 3


def test_a_place_waiting_for_confirmation_becomes_a_held_seat_until_the_same_deadline(make_event):
    event = make_event(capacity=1)
    first = join(event, 0)
    waiting = crowd(event, 1)

    services.cancel_registration(registration=first)

    held = Registration.objects.get(pk=waiting.pk)
    assert (held.status, held.hold_until) == (Status.HELD, waiting.hold_until)
    row = OutgoingMail.objects.filter(kind=MailKind.HELD).latest("pk")
    assert row.data == {"promoted": True} and row.once_key.startswith("held:")
    assert seats_taken(event) == 1


def test_holds_of_online_places_are_released_to_the_online_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1)
    held = join(event, 1, from_address=11, attendance=ONLINE)
    waiting = join(event, 2, attendance=ONLINE)
    event.refresh_from_db()
    assert (held.status, event.online_seats_taken, event.seats_taken) == (Status.HELD, 1, 0)

    services.release_expired_holds(now=later(31))

    event.refresh_from_db()
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    assert (event.online_seats_taken, event.seats_taken) == (1, 0)


def test_a_held_place_cannot_switch_sides(make_event):
    event = make_event(attendance_mode=HYBRID)
    held = crowd(event, 1)

    with pytest.raises(RegistrationError) as refused:
        services.switch_attendance(registration=held, attendance=ONLINE)

    assert refused.value.code == "held"


def test_cancelling_a_held_seat_frees_it_without_cancelling_an_invite(make_event):
    event = make_event(capacity=1)
    held = crowd(event, 1)
    waiting = join(event, 2)

    services.cancel_registration(registration=held)

    held.refresh_from_db()
    assert (held.status, held.hold_until, held.invite_sequence) == (Status.CANCELLED, None, 0)
    assert OutgoingMail.objects.get(kind=MailKind.CANCELLATION).data == {"cancels_invite": False}
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED


# Offers near the start


def near_start_talk(make_event, **fields):
    return make_event(start=later(180), **fields)


def test_a_seat_freed_the_day_before_is_offered_for_two_hours_then_moves_down_the_list(make_event):
    event = near_start_talk(make_event, capacity=1)
    seated = join(event, 0)
    first, second, third = (join(event, n) for n in (1, 2, 3))

    services.cancel_registration(registration=seated)

    first.refresh_from_db()
    assert (first.status, first.hold_reason) == (Status.HELD, Reason.OFFER)
    assert later(119) < first.hold_until <= later(120)
    assert mail_kinds(first) == [MailKind.OFFER, MailKind.WAITLISTED]
    assert log_actions(first)[-1] == (Action.OFFERED, "waitlisted", "held")
    assert seats_taken(event) == 1

    # Declined: the next person gets the offer at once.
    services.decline_offer(registration=first)
    second.refresh_from_db()
    assert (first.status, second.status, second.hold_reason) == (Status.CANCELLED, Status.HELD, Reason.OFFER)

    # Ignored: the sweep passes it on when its time is up.
    services.release_expired_holds(now=second.hold_until + MINUTE)
    third.refresh_from_db()
    assert Registration.objects.get(pk=second.pk).status == Status.CANCELLED
    assert (third.status, third.hold_reason) == (Status.HELD, Reason.OFFER)
    assert seats_taken(event) == 1

    # Taken: the seat is theirs, with the confirmation.
    services.confirm_hold(registration=third)
    assert third.status == Status.CONFIRMED
    assert mail_kinds(third) == [MailKind.CONFIRMATION, MailKind.OFFER, MailKind.WAITLISTED]


def test_an_offer_ends_at_the_start_at_the_latest(make_event):
    event = make_event(start=later(30), capacity=1)
    seated = join(event, 0)
    waiting = join(event, 1)

    services.cancel_registration(registration=seated)

    waiting.refresh_from_db()
    assert waiting.hold_until == event.start
    services.release_expired_holds(now=event.start)
    # Started: nobody is offered a seat any more.
    assert Registration.objects.filter(event=event).with_place().count() == 0


def test_seats_freed_earlier_are_still_given_at_once(make_event, settings):
    settings.OFFER_BEFORE_HOURS = 2
    event = near_start_talk(make_event, capacity=1)
    seated = join(event, 0)
    waiting = join(event, 1)

    services.cancel_registration(registration=seated)

    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED


def test_only_an_offered_seat_can_be_declined(event):
    confirmed = join(event, 1)

    with pytest.raises(RegistrationError) as refused:
        services.decline_offer(registration=confirmed)

    assert refused.value.code == "not_offered"


# Freeing a seat


def test_freeing_a_seat_gives_it_to_the_next_person_once(make_event):
    event = make_event(capacity=1)
    seated = join(event, 0)
    waiting = join(event, 1)

    services.free_seat(registration=seated)

    assert seated.status == Status.CANCELLED
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    with pytest.raises(RegistrationError) as twice:
        services.free_seat(registration=seated)
    assert twice.value.code == "already_cancelled"
    with pytest.raises(RegistrationError) as no_seat:
        services.free_seat(registration=join(event, 2))
    assert no_seat.value.code == "no_seat"
    assert seats_taken(event) == 1


def test_freeing_an_offered_seat_passes_it_on(make_event):
    event = near_start_talk(make_event, capacity=1)
    seated = join(event, 0)
    first, second = join(event, 1), join(event, 2)
    services.cancel_registration(registration=seated)

    services.free_seat(registration=Registration.objects.get(pk=first.pk))

    assert Registration.objects.get(pk=second.pk).is_offer
    assert log_actions(first)[-1][0] == Action.CANCELLED


# At the door


def test_a_held_person_at_the_door_is_confirmed_and_checked_in(event, django_user_model):
    held = crowd(event, 1)
    door = django_user_model.objects.create_user("door")

    services.check_in(registration=held, actor=door)

    held.refresh_from_db()
    assert (held.status, held.hold_until) == (Status.CONFIRMED, None)
    assert held.checked_in_at is not None
    assert [a for a, _, _ in log_actions(held)] == [Action.HELD, Action.HOLD_CONFIRMED, Action.CHECKED_IN]
    assert mail_kinds(held) == [MailKind.HELD]
    assert seats_taken(event) == 1


def test_reads_tell_held_seats_apart(make_event):
    event = make_event(capacity=3)
    join(event, 0)
    crowd(event, 1)
    crowd(event, 2)
    registrations = Registration.objects.filter(event=event)

    assert registrations.confirmed().count() == 1
    assert registrations.held().count() == 2
    assert registrations.with_place().count() == seats_taken(event) == 3
    assert registrations.awaiting_confirmation().count() == 2
    assert registrations.expired_holds(later(29)).count() == 0
    assert registrations.expired_holds(later(31)).count() == 2


def test_demand_counts_recent_places_of_one_way_of_attending(make_event, settings, django_assert_num_queries):
    settings.HOLD_DEMAND = "50%/10m"
    event = make_event(capacity=4, attendance_mode=HYBRID, online_capacity=4)
    in_person = [join(event, n) for n in range(3)]
    online = [join(event, n, attendance=ONLINE) for n in range(3, 6)]
    assert {p.status for p in in_person + online} == {Status.CONFIRMED}
    Registration.objects.filter(pk__in=[p.pk for p in in_person[:2]]).update(created_at=later(-11))
    event.refresh_from_db()

    # Three of four seats taken on each side, but only one in the room within ten minutes.
    with django_assert_num_queries(1):
        assert not hold_rules.in_demand(event=event, attendance=Registration.Attendance.IN_PERSON, now=later(0))
    assert hold_rules.in_demand(event=event, attendance=ONLINE, now=later(0))
    assert not hold_rules.in_demand(event=event, attendance=ONLINE, now=later(11))

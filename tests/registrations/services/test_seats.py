import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Answer, MailKind, Registration, RegistrationLog
from registrations.services import RegistrationError
from tests.registrations.services.records import HYBRID, IN_PERSON, ONLINE, attend, log_actions, mail_kinds, seats_taken

pytestmark = pytest.mark.django_db


# Registering


def test_register_confirms_while_seats_are_free(event):
    result = services.register(event=event, name="Zoë Ñúñez", email="zoe@example.edu", affiliation="UT Austin")

    registration = result.registration
    assert result.created
    assert registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1
    assert mail_kinds(registration) == [MailKind.CONFIRMATION]
    assert log_actions(registration) == [(RegistrationLog.Action.REGISTERED, "", "confirmed")]


def test_register_waitlists_when_full(make_event, sign_up):
    event = make_event(capacity=2)
    sign_up(event)
    sign_up(event)

    third = sign_up(event)
    fourth = sign_up(event)

    assert third.status == fourth.status == Registration.Status.WAITLISTED
    assert third.waitlist_position() == 1
    assert fourth.waitlist_position() == 2
    assert seats_taken(event) == 2
    assert mail_kinds(third) == [MailKind.WAITLISTED]
    assert log_actions(third) == [(RegistrationLog.Action.WAITLISTED, "", "waitlisted")]


def test_register_refuses_when_full_and_waitlist_off(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "full"
    assert "full" in refused.value.message
    assert Registration.objects.filter(event=event).count() == 1


def test_register_refuses_when_waitlist_limit_reached(make_event, sign_up):
    event = make_event(capacity=1, waitlist_limit=2)
    sign_up(event)
    sign_up(event)
    sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "waitlist_full"
    assert "waiting list is full" in refused.value.message
    assert Registration.objects.filter(event=event).waitlisted().count() == 2


def test_register_refuses_before_registration_opens_and_says_when(make_event, sign_up):
    opens = timezone.now() + datetime.timedelta(days=2)
    event = make_event(registration_opens=opens)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "not_open_yet"
    local = timezone.localtime(opens, event.local_time_zone)
    assert refused.value.message.startswith("Registration opens on ")
    assert f"{local:%B} {local.day}, {local.year}" in refused.value.message
    assert not Registration.objects.exists()


def test_register_refuses_after_registration_closes(make_event, sign_up):
    event = make_event(
        registration_opens=timezone.now() - datetime.timedelta(days=3),
        registration_closes=timezone.now() - datetime.timedelta(minutes=1),
    )

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "closed"
    assert refused.value.message.startswith("Registration closed on ")


def test_register_refuses_once_the_talk_started(make_event, sign_up):
    event = make_event(start=timezone.now() - datetime.timedelta(minutes=5))

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == "started"


@pytest.mark.parametrize(("status", "code"), [(Event.Status.CANCELLED, "cancelled"), (Event.Status.DRAFT, "draft")])
def test_register_refuses_cancelled_and_draft_talks(make_event, sign_up, status, code):
    event = make_event(status=status)

    with pytest.raises(RegistrationError) as refused:
        sign_up(event)

    assert refused.value.code == code
    assert seats_taken(event) == 0


def test_refusal_reads_the_locked_row_not_the_callers_copy(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    stale = Event.objects.get(pk=event.pk)
    sign_up(event)

    with pytest.raises(RegistrationError) as refusal:
        sign_up(stale)

    assert refusal.value.code == "full"
    assert Registration.objects.filter(event=event).count() == 1


def test_a_talk_that_filled_up_since_it_was_read_puts_the_sign_up_on_its_waiting_list(make_event, sign_up):
    event = make_event(capacity=1)
    stale = Event.objects.get(pk=event.pk)  # one seat free, as the form was posted
    sign_up(event)

    late = services.register(event=stale, name="Late", email="late@example.edu").registration

    # Its seat not taken, it was started again under the lock: one registration, one entry, one email.
    assert late.status == Registration.Status.WAITLISTED
    assert Registration.objects.filter(email="late@example.edu").count() == 1
    assert log_actions(late) == [(RegistrationLog.Action.WAITLISTED, "", "waitlisted")]
    assert mail_kinds(late) == [MailKind.WAITLISTED]
    assert seats_taken(event) == 1


def test_a_seat_freed_since_the_talk_was_read_full_goes_to_the_sign_up(make_event, sign_up):
    event = make_event(capacity=1)
    first = sign_up(event)
    stale = Event.objects.get(pk=event.pk)  # full, as the form was posted
    services.cancel_registration(registration=first)

    late = services.register(event=stale, name="Late", email="late@example.edu").registration

    # Not put on the waiting list of a talk with a seat free: started again under the lock, written once.
    assert late.status == Registration.Status.CONFIRMED
    assert log_actions(late) == [(RegistrationLog.Action.REGISTERED, "", "confirmed")]
    assert mail_kinds(late) == [MailKind.CONFIRMATION]
    assert seats_taken(event) == 1


def test_a_waiting_list_limited_since_the_talk_was_read_full_is_counted(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)  # waiting
    stale = Event.objects.get(pk=event.pk)
    Event.objects.filter(pk=event.pk).update(waitlist_limit=1)

    with pytest.raises(RegistrationError) as refusal:
        services.register(event=stale, name="Late", email="late@example.edu")

    assert refusal.value.code == "waitlist_full"
    assert not Registration.objects.filter(email="late@example.edu").exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Event.Status.CANCELLED}, "cancelled"),
        ({"registration_closes": timezone.now() - datetime.timedelta(minutes=1)}, "closed"),
        ({"waitlist_enabled": False}, "full"),
    ],
)
def test_a_full_talk_changed_since_it_was_read_refuses_and_writes_nothing(make_event, sign_up, change, code):
    event = make_event(capacity=1)
    sign_up(event)
    stale = Event.objects.get(pk=event.pk)
    Event.objects.filter(pk=event.pk).update(**change)

    with pytest.raises(RegistrationError) as refusal:
        services.register(event=stale, name="Ana", email="ana@example.edu")

    assert refusal.value.code == code
    assert not Registration.objects.filter(email="ana@example.edu").exists()
    assert RegistrationLog.objects.count() == OutgoingMail.objects.count() == 1
    assert seats_taken(event) == 1


def test_the_online_places_read_as_full_put_the_sign_up_on_their_own_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=5, online_capacity=1)
    attend(event, 0, ONLINE)
    full_online = Event.objects.get(pk=event.pk)

    late = services.register(event=full_online, name="Late", email="late@example.edu", attendance=ONLINE)

    registration = late.registration
    assert (registration.attendance, registration.status) == (ONLINE, Registration.Status.WAITLISTED)
    assert mail_kinds(registration) == [MailKind.WAITLISTED]
    event.refresh_from_db()
    # The room's seats are another count: untouched.
    assert (event.seats_taken, event.online_seats_taken) == (0, 1)


def test_joining_the_waiting_list_of_a_talk_read_full_does_not_read_it_again(
    make_event, sign_up, django_assert_num_queries
):
    event = make_event(capacity=1)
    sign_up(event)
    # As the sign-up page reads it.
    full = Event.objects.select_related("series", "venue").get(pk=event.pk)

    # Savepoint, the talk's row lock (an UPDATE that checks it is still full and open), registration,
    # history entry, outbox row (on PostgreSQL one statement), the talk page's new token in the
    # database cache, release.
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 7) as captured:
        late = services.register(event=full, name="Late", email="late@example.edu").registration

    assert late.status == Registration.Status.WAITLISTED
    assert not [query for query in captured if query["sql"].startswith("SELECT")]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Event.Status.CANCELLED}, "cancelled"),
        ({"registration_closes": timezone.now() - datetime.timedelta(minutes=1)}, "closed"),
        ({"attendance_mode": Event.AttendanceMode.ONLINE, "venue": None}, "attendance"),
    ],
)
def test_a_talk_changed_since_it_was_read_refuses_and_writes_nothing(make_event, change, code):
    event = make_event(capacity=5)
    stale = Event.objects.get(pk=event.pk)
    Event.objects.filter(pk=event.pk).update(**change)

    with pytest.raises(RegistrationError) as refusal:
        services.register(event=stale, name="Ana", email="ana@example.edu")

    assert refusal.value.code == code
    assert not Registration.objects.exists()
    assert not RegistrationLog.objects.exists() and not OutgoingMail.objects.exists()
    assert seats_taken(event) == 0


def test_a_held_seat_s_deadline_is_from_the_start_the_seat_was_taken_with(make_event, django_user_model):
    start = timezone.now() + datetime.timedelta(minutes=10)
    event = make_event(capacity=5, confirm_by_email=True, start=start, end=start + datetime.timedelta(hours=1))
    stale = Event.objects.get(pk=event.pk)
    earlier = start - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(start=earlier)  # moved since the form was read

    held = services.register(event=stale, name="Ana", email="ana@example.edu").registration

    assert held.status == Registration.Status.HELD
    assert held.hold_until == earlier  # never past the start as it is now
    assert seats_taken(event) == 1


def age_outbox(registration, minutes=60):
    """Pretend the registration's mail was queued a while ago (resends are rate-limited)."""
    registration.outgoing_mails.update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


@pytest.mark.parametrize("again", ["ANA@UT.EDU", "  ana@ut.edu  ", "Ana@Ut.Edu "])
def test_same_address_in_other_case_or_with_spaces_takes_no_second_seat(event, again):
    first = services.register(event=event, name="Ana", email="Ana@UT.edu").registration
    age_outbox(first)

    result = services.register(event=event, name="Somebody Else", email=again)

    assert not result.created
    assert result.registration == first
    assert Registration.objects.filter(event=event).count() == 1
    assert seats_taken(event) == 1
    assert mail_kinds(first) == [MailKind.CONFIRMATION, MailKind.RESEND]
    assert RegistrationLog.Action.CONFIRMATION_RESENT in first.log.values_list("action", flat=True)


def test_immediate_second_submission_queues_no_second_email(event):
    first = services.register(event=event, name="Ana", email="ana@ut.edu").registration

    result = services.register(event=event, name="Ana", email="ana@ut.edu")

    assert result.already_registered
    assert mail_kinds(first) == [MailKind.CONFIRMATION]
    assert Registration.objects.count() == 1


def test_duplicate_while_full_is_still_already_registered(make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    first = sign_up(event, email="first@example.edu")

    result = services.register(event=event, name="First", email="FIRST@example.edu")

    assert result.registration == first
    assert not result.created


def test_database_refuses_a_second_active_registration_for_an_address(event, sign_up):
    sign_up(event, email="ana@ut.edu")

    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(event=event, name="Ana", email="ANA@ut.edu", status="waitlisted")


def test_register_again_after_cancelling(event, sign_up):
    first = sign_up(event, email="ana@ut.edu")
    services.cancel_registration(registration=first)

    again = services.register(event=event, name="Ana", email="ana@ut.edu")

    assert again.created
    assert again.registration != first
    assert again.registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1


def test_register_rejects_invalid_fields_without_changes(event):
    with pytest.raises(RegistrationError) as refused:
        services.register(event=event, name="x" * 10_000, email="not-an-address")

    assert refused.value.code == "invalid"
    assert not Registration.objects.exists()
    assert seats_taken(event) == 0


@pytest.mark.parametrize(("name", "affiliation"), [("\u202eAna", ""), ("Ana", "UT\u2067 Austin\u2069")])
def test_register_refuses_direction_controls_whoever_calls_it(event, name, affiliation):
    # The admin, the door and any script reach the model's validator through the service.
    with pytest.raises(RegistrationError) as refused:
        services.register(event=event, name=name, email="ana@ut.edu", affiliation=affiliation)

    assert refused.value.code == "invalid"
    assert "without line breaks or control characters" in refused.value.message
    assert not Registration.objects.exists()


def test_register_accepts_plus_addresses_and_unicode_domains(event):
    result = services.register(event=event, name="王小明", email="ana+seminar@bücher.example")

    # Stored as a browser's email field sends it, and as mail servers read it.
    assert result.registration.email == "ana+seminar@xn--bcher-kva.example"
    assert result.registration.status == Registration.Status.CONFIRMED


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
        ("ana@xn--bcher-kva.example", "ANA@Bücher.Example"),
    ],
)
def test_one_mailbox_at_an_international_domain_gets_one_seat_however_its_domain_is_spelled(make_event, first, again):
    event = make_event(capacity=5)
    services.register(event=event, name="Ana", email=first)

    result = services.register(event=event, name="Ana", email=again)

    assert result.already_registered
    assert Registration.objects.filter(event=event).count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


# Cancelling and the waiting list


def test_cancel_frees_the_seat_and_promotes_the_first_in_line(make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    first_waiting = sign_up(event)
    second_waiting = sign_up(event)

    promoted = services.cancel_registration(registration=holder)

    assert promoted == [first_waiting]
    assert holder.status == Registration.Status.CANCELLED
    assert holder.cancelled_at is not None
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == Registration.Status.CONFIRMED
    assert second_waiting.status == Registration.Status.WAITLISTED
    assert second_waiting.waitlist_position() == 1
    assert seats_taken(event) == 1
    assert mail_kinds(holder) == [MailKind.CANCELLATION, MailKind.CONFIRMATION]
    assert mail_kinds(first_waiting) == [MailKind.PROMOTED, MailKind.WAITLISTED]
    assert log_actions(holder)[-1] == (RegistrationLog.Action.CANCELLED, "confirmed", "cancelled")
    assert log_actions(first_waiting)[-1] == (RegistrationLog.Action.PROMOTED, "waitlisted", "confirmed")


def test_leaving_the_waiting_list_moves_the_others_up_and_keeps_seats(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    first_waiting = sign_up(event)
    second_waiting = sign_up(event)

    promoted = services.cancel_registration(registration=first_waiting)

    assert promoted == []
    assert seats_taken(event) == 1
    assert second_waiting.waitlist_position() == 1
    assert log_actions(first_waiting)[-1] == (RegistrationLog.Action.CANCELLED, "waitlisted", "cancelled")
    assert MailKind.CANCELLATION in mail_kinds(first_waiting)


def test_cancelled_stays_cancelled(event, sign_up):
    registration = sign_up(event)
    services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError) as refused:
        services.cancel_registration(registration=registration)

    assert refused.value.code == "already_cancelled"
    assert seats_taken(event) == 0
    assert registration.log.filter(action=RegistrationLog.Action.CANCELLED).count() == 1


def test_no_cancelling_once_the_talk_is_over(event, sign_up):
    registration = sign_up(event)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )

    with pytest.raises(RegistrationError) as refused:
        services.cancel_registration(registration=registration)

    assert refused.value.code == "ended"
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert seats_taken(event) == 1
    assert not OutgoingMail.objects.filter(kind=MailKind.CANCELLATION).exists()


def test_cancelling_a_stale_copy_does_not_free_a_second_seat(event, sign_up):
    registration = sign_up(event)
    stale = Registration.objects.get(pk=registration.pk)
    services.cancel_registration(registration=registration)

    with pytest.raises(RegistrationError):
        services.cancel_registration(registration=stale)

    assert seats_taken(event) == 0


def test_no_promotion_for_a_cancelled_talk(make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)

    assert services.cancel_registration(registration=holder) == []

    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITLISTED


def test_promote_waitlist_fills_free_seats_in_order(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(4)]
    # Seats freed behind the services' back (e.g. a capacity edited in the database).
    Event.objects.filter(pk=event.pk).update(capacity=3)

    promoted = services.promote_waitlist(event=event)

    assert promoted == waiting[:2]
    assert seats_taken(event) == 3
    assert [r.waitlist_position() for r in Registration.objects.filter(pk__in=[w.pk for w in waiting[2:]])] == [1, 2]
    assert services.promote_waitlist(event=event) == []


# Capacity


def test_raising_capacity_promotes_at_once(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(3)]
    organizer = get_user_model().objects.create_user("organizer")

    promoted = services.change_capacity(event=event, capacity=3, actor=organizer)

    assert promoted == waiting[:2]
    assert event.capacity == 3
    assert event.seats_taken == 3
    assert seats_taken(event) == 3
    entry = waiting[0].log.get(action=RegistrationLog.Action.PROMOTED)
    assert entry.actor == organizer
    assert "Capacity changed to 3" in entry.note


def test_lowering_capacity_below_confirmed_is_refused(make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)

    with pytest.raises(RegistrationError) as refused:
        services.change_capacity(event=event, capacity=2)

    assert refused.value.code == "capacity_below_taken"
    assert "3 people already hold a seat" in refused.value.message
    event.refresh_from_db()
    assert event.capacity == 5


def test_lowering_capacity_to_the_confirmed_count_is_allowed(make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)

    services.change_capacity(event=event, capacity=3)

    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)
    assert sign_up(event).status == Registration.Status.WAITLISTED


def test_database_backstops_overbooking(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=event.capacity + 1)


# Answers to the talk's questions


def test_answers_are_stored_with_the_registration(event, ask):
    diet = ask(event, "Dietary restrictions?")
    lunch = ask(event, "Lunch?", kind="yes_no")
    topics = ask(event, "Topics", kind="multiple_choice", choices=["Vision", "Theory"])

    registration = services.register(
        event=event,
        name="Ana",
        email="ana@example.edu",
        answers={diet.pk: "Vegetarian", lunch.pk: "yes", topics.pk: "Vision\nTheory"},
    ).registration

    assert {(answer.question.label, answer.display_value) for answer in registration.answers.all()} == {
        ("Dietary restrictions?", "Vegetarian"),
        ("Lunch?", "Yes"),
        ("Topics", "Vision; Theory"),
    }


def test_an_answer_to_another_talks_question_writes_nothing(make_event, ask):
    event, other = make_event(), make_event()
    foreign = ask(other, "Elsewhere?")

    with pytest.raises(RegistrationError) as error:
        services.register(event=event, name="Ana", email="ana@example.edu", answers={foreign.pk: "sneaky"})

    assert error.value.code == "invalid"
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()


def test_registering_again_keeps_the_first_answers(event, ask):
    diet = ask(event, "Dietary restrictions?")
    services.register(event=event, name="Ana", email="ana@example.edu", answers={diet.pk: "None"})

    result = services.register(event=event, name="Ana", email="ANA@example.edu", answers={diet.pk: "Changed"})

    assert not result.created
    assert list(Answer.objects.values_list("value", flat=True)) == ["None"]


# Hybrid talks: in person and online, each with its own places and waiting list


def test_online_places_never_take_a_seat_in_the_room(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1)

    online = [attend(event, n, ONLINE) for n in range(5)]
    in_person = attend(event, 10, IN_PERSON)

    event.refresh_from_db()
    assert [r.status for r in online] == ["confirmed"] * 5
    assert in_person.status == "confirmed"
    assert (event.seats_taken, event.online_seats_taken) == (1, 5)
    assert attend(event, 11, IN_PERSON).status == "waitlisted"
    assert attend(event, 12, ONLINE).status == "confirmed"


def test_limited_online_places_have_their_own_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1, online_capacity=2)
    attend(event, 0, IN_PERSON)
    waiting_in_room = attend(event, 1, IN_PERSON)

    statuses = [attend(event, n, ONLINE).status for n in range(2, 6)]

    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    online_waiting = list(Registration.objects.filter(event=event).online().waitlist_order())
    assert [r.waitlist_position() for r in online_waiting] == [1, 2]
    assert waiting_in_room.waitlist_position() == 1
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 2)


def test_an_online_cancellation_promotes_the_next_online_waiter_only(make_event):
    event = make_event(attendance_mode=HYBRID, capacity=1, online_capacity=1)
    attend(event, 0, IN_PERSON)
    room_waiter = attend(event, 1, IN_PERSON)
    online_holder = attend(event, 2, ONLINE)
    online_waiter = attend(event, 3, ONLINE)

    promoted = services.cancel_registration(registration=online_holder)

    assert promoted == [online_waiter]
    room_waiter.refresh_from_db()
    assert room_waiter.status == "waitlisted"
    event.refresh_from_db()
    assert (event.seats_taken, event.online_seats_taken) == (1, 1)


def test_a_talk_refuses_a_way_of_attending_it_does_not_offer(make_event):
    in_person_only, online_only = make_event(), make_event(attendance_mode=Event.AttendanceMode.ONLINE)

    with pytest.raises(RegistrationError) as no_online:
        attend(in_person_only, 0, ONLINE)
    with pytest.raises(RegistrationError) as no_room:
        attend(online_only, 1, IN_PERSON)

    assert no_online.value.code == no_room.value.code == "attendance"
    assert "in person only" in no_online.value.message
    assert not Registration.objects.exists()
    assert attend(online_only, 2, ONLINE).status == "confirmed"


def test_full_online_places_without_a_waiting_list_refuse(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1, waitlist_enabled=False)
    attend(event, 0, ONLINE)

    with pytest.raises(RegistrationError, match="online places are all taken") as error:
        attend(event, 1, ONLINE)

    assert error.value.code == "full"


def test_database_refuses_more_online_places_than_the_limit(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(online_seats_taken=2)


def test_more_online_places_promote_the_online_waiting_list(make_event):
    event = make_event(attendance_mode=HYBRID, online_capacity=1)
    attend(event, 0, ONLINE)
    waiting = [attend(event, n, ONLINE) for n in (1, 2, 3)]

    with pytest.raises(RegistrationError) as error:
        services.change_online_capacity(event=event, capacity=0)
    assert error.value.code == "capacity_below_taken"

    assert services.change_online_capacity(event=event, capacity=2) == waiting[:1]
    assert services.change_online_capacity(event=event, capacity=None) == waiting[1:]
    assert (event.online_capacity, event.online_seats_taken) == (None, 4)

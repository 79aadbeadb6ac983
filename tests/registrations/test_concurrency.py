"""Races against the seat counter, on PostgreSQL with one real connection per thread.

Each test starts WORKERS threads that connect first, wait at a barrier so
they start together, then drain a shared queue of jobs. The pool stays well
under PostgreSQL's default max_connections (100) while 200 jobs compete.
"""

import queue
import threading

import pytest
from django.db import connection

from events.models import Event
from events.services import EventError, cancel_event
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import MailKind, Registration, RegistrationLog
from registrations.services import RegistrationError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 40


def run_together(jobs):
    """Run the callables in `jobs` on WORKERS threads at once; return each one's result or exception."""
    pending = queue.SimpleQueue()
    for index, job in enumerate(jobs):
        pending.put((index, job))
    results = [None] * len(jobs)
    barrier = threading.Barrier(WORKERS)

    def work():
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            while True:
                try:
                    index, job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = job()
                except Exception as error:  # kept and asserted on by the test
                    results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return results


def registering(event, n):
    return lambda: services.register(event=event, name=f"Person {n}", email=f"person{n}@example.edu")


def cancelling(registration):
    return lambda: services.cancel_registration(registration=registration)


def assert_seats_consistent(event):
    event.refresh_from_db()
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    assert event.seats_taken == confirmed
    assert 0 <= event.seats_taken <= event.capacity
    return confirmed


def test_200_simultaneous_registrations_for_20_seats_fill_seats_then_waitlist(require_postgres, make_event):
    event = make_event(capacity=20, waitlist_enabled=True)

    results = run_together([registering(event, n) for n in range(200)])

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    statuses = [result.registration.status for result in results]
    assert statuses.count(Registration.Status.CONFIRMED) == 20
    assert statuses.count(Registration.Status.WAITLISTED) == 180
    assert assert_seats_consistent(event) == 20
    waiting = list(Registration.objects.filter(event=event).waitlist_order())
    assert sorted(r.waitlist_position() for r in waiting) == list(range(1, 181))
    # Arrival order is decided under the lock: the waiting list is in insertion order.
    assert [r.pk for r in waiting] == sorted(r.pk for r in waiting)
    assert max(Registration.objects.filter(event=event).confirmed().values_list("pk", flat=True)) < waiting[0].pk
    assert RegistrationLog.objects.filter(registration__event=event).count() == 200


def test_200_simultaneous_registrations_without_waitlist_give_20_seats_and_180_full(require_postgres, make_event):
    event = make_event(capacity=20, waitlist_enabled=False)

    results = run_together([registering(event, n) for n in range(200)])

    refusals = [result for result in results if isinstance(result, RegistrationError)]
    other_errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, RegistrationError)]
    assert other_errors == []
    assert len(refusals) == 180
    assert {refusal.code for refusal in refusals} == {"full"}
    assert {refusal.message for refusal in refusals} == {"Sorry, this talk is full."}
    assert Registration.objects.filter(event=event).count() == 20
    assert assert_seats_consistent(event) == 20


def test_simultaneous_cancellations_and_registrations_keep_the_counter_exact(require_postgres, make_event):
    event = make_event(capacity=20)
    confirmed = [
        services.register(event=event, name=f"C{n}", email=f"c{n}@example.edu").registration for n in range(20)
    ]
    waiting = [services.register(event=event, name=f"W{n}", email=f"w{n}@example.edu").registration for n in range(30)]
    jobs = [cancelling(r) for r in confirmed[:15]] + [cancelling(r) for r in waiting[:10]]
    jobs += [registering(event, n) for n in range(60)]
    # Interleave so cancellations and registrations really overlap.
    jobs = [job for pair in zip(jobs[:25], jobs[25:50], strict=True) for job in pair] + jobs[50:]

    results = run_together(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    # The waiting list never empties here, so every freed seat was filled at once.
    assert assert_seats_consistent(event) == 20
    still_waiting = Registration.objects.filter(event=event).waitlisted()
    assert still_waiting.count() == (20 + 30 + 60) - 25 - 20
    # Each seat given up was handed on exactly once (some of those cancelling
    # from the waiting list had been promoted before their turn came).
    promoted = Registration.objects.filter(event=event, log__action=RegistrationLog.Action.PROMOTED)
    freed = RegistrationLog.objects.filter(
        registration__event=event, action=RegistrationLog.Action.CANCELLED, from_status=Registration.Status.CONFIRMED
    )
    assert promoted.count() == freed.count() >= 15
    # First come first served: everyone promoted arrived before everyone still waiting.
    assert max(promoted.values_list("created_at", flat=True)) <= min(still_waiting.values_list("created_at", flat=True))


def test_simultaneous_cancellations_of_one_registration_free_one_seat(require_postgres, make_event):
    event = make_event(capacity=5)
    registration = services.register(event=event, name="Ana", email="ana@ut.edu").registration

    results = run_together([cancelling(registration) for _ in range(WORKERS)])

    refusals = [r for r in results if isinstance(r, RegistrationError)]
    assert len(refusals) == WORKERS - 1
    assert {r.code for r in refusals} == {"already_cancelled"}
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, RegistrationError)] == []
    assert assert_seats_consistent(event) == 0


def test_simultaneous_identical_submissions_make_one_registration(require_postgres, make_event):
    event = make_event(capacity=5)
    emails = [f"{' ' * (n % 3)}Ana@UT.edu" if n % 2 else "ana@ut.edu" for n in range(WORKERS)]

    results = run_together(
        [lambda email=email: services.register(event=event, name="Ana", email=email) for email in emails]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(result.created for result in results) == 1
    assert len({result.registration.pk for result in results}) == 1
    assert Registration.objects.filter(event=event).count() == 1
    assert assert_seats_consistent(event) == 1


def test_capacity_changes_racing_registrations_never_overbook(require_postgres, make_event):
    event = make_event(capacity=20)
    jobs = [registering(event, n) for n in range(100)]
    for position, capacity in zip(range(5, 100, 10), [15, 25, 10, 30, 12, 22, 18, 40, 5, 20], strict=True):
        jobs.insert(position, lambda capacity=capacity: services.change_capacity(event=event, capacity=capacity))

    results = run_together(jobs)

    refusals = [r for r in results if isinstance(r, RegistrationError)]
    assert {r.code for r in refusals} <= {"capacity_below_taken"}
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, RegistrationError)] == []
    confirmed = assert_seats_consistent(event)
    # With people still waiting, no seat may stay empty.
    if Registration.objects.filter(event=event).waitlisted().exists():
        assert confirmed == event.capacity


# Hybrid talks: online places race the same way, under the same lock, apart from the room.


def registering_as(event, n, attendance):
    return lambda: services.register(
        event=event, name=f"Person {n}", email=f"{attendance}{n}@example.edu", attendance=attendance
    )


def assert_online_consistent(event):
    event.refresh_from_db()
    online = Registration.objects.filter(event=event).confirmed().online().count()
    assert event.online_seats_taken == online
    assert event.online_capacity is None or online <= event.online_capacity
    return online


def test_simultaneous_online_and_in_person_sign_ups_fill_each_side_apart(require_postgres, make_event):
    event = make_event(attendance_mode="hybrid", capacity=10, online_capacity=25)
    jobs = [registering_as(event, n, "online") for n in range(120)]
    jobs += [registering_as(event, n, "in_person") for n in range(60)]
    jobs = [job for pair in zip(jobs[:60], jobs[120:], strict=True) for job in pair] + jobs[60:120]

    results = run_together(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert assert_online_consistent(event) == 25
    in_person = Registration.objects.filter(event=event).in_person()
    assert in_person.confirmed().count() == event.seats_taken == 10
    assert in_person.waitlisted().count() == 50
    assert Registration.objects.filter(event=event).online().waitlisted().count() == 95


def test_simultaneous_switches_to_online_take_exactly_the_free_places(require_postgres, make_event):
    event = make_event(attendance_mode="hybrid", capacity=5, online_capacity=8)
    for n in range(5):
        registering_as(event, n, "in_person")()
    waiting = [registering_as(event, n, "in_person")().registration for n in range(5, 45)]
    holders = list(Registration.objects.filter(event=event).confirmed())
    jobs = [lambda r=r: services.switch_attendance(registration=r, attendance="online") for r in waiting + holders]

    results = run_together(jobs)

    refusals = [r for r in results if isinstance(r, RegistrationError)]
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, RegistrationError)] == []
    assert {r.code for r in refusals} == {"full"}
    assert len(refusals) == 45 - 8
    assert assert_online_consistent(event) == 8
    # Seats given up by holders who switched went to people still waiting for the room.
    assert Registration.objects.filter(event=event).confirmed().in_person().count() == event.seats_taken == 5


def told_of_the_cancellation() -> set[int]:
    """The registrations an EVENT_CANCELLED email was queued for."""
    return set(OutgoingMail.objects.filter(kind=MailKind.EVENT_CANCELLED).values_list("about_id", flat=True))


def test_a_talk_cancelled_twice_at_once_is_cancelled_once_and_told_once(require_postgres, make_event, sign_up):
    event = make_event(capacity=2)
    people = [sign_up(event) for _ in range(3)]

    results = run_together([lambda n=n: cancel_event(event=event, note=f"Reason {n}") for n in range(WORKERS)])

    (cancelled,) = [result for result in results if isinstance(result, Event)]
    assert {(type(result), result.code) for result in results if result is not cancelled} == {(EventError, "cancelled")}
    stored = Event.objects.get(pk=event.pk)
    assert (stored.status, stored.cancellation_note, stored.sequence) == ("cancelled", cancelled.cancellation_note, 1)
    assert OutgoingMail.objects.filter(kind=MailKind.EVENT_CANCELLED).count() == 3
    assert told_of_the_cancellation() == {person.pk for person in people}


def test_sign_ups_racing_a_cancellation_are_either_told_or_refused(require_postgres, make_event, sign_up):
    event = make_event(capacity=5, waitlist_enabled=True)
    early = [sign_up(event) for _ in range(3)]

    results = run_together(
        [registering(event, n) for n in range(20)]
        + [lambda: cancel_event(event=event)]
        + [registering(event, n) for n in range(20, 40)]
    )

    refused = [result for result in results if isinstance(result, Exception)]
    assert {(type(error), error.code) for error in refused} <= {(RegistrationError, "cancelled")}
    registered = {result.registration.pk for result in results if hasattr(result, "registration")}
    assert told_of_the_cancellation() == registered | {person.pk for person in early}
    assert not Registration.objects.filter(event=event).active().exclude(pk__in=told_of_the_cancellation()).exists()

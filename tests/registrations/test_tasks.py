import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from registrations import services
from registrations.models import OutgoingMail, Registration
from registrations.tasks import deliver_mail
from tests.mime import invite_parts, sent

Kind = OutgoingMail.Kind


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def talk(make_event, now):
    return make_event(start=now + datetime.timedelta(days=3))


def registrant(event, *, registered_at, status=Registration.Status.CONFIRMED, email="ana@example.edu"):
    registration = Registration.objects.create(event=event, name="Ana", email=email, status=status)
    Registration.objects.filter(pk=registration.pk).update(created_at=registered_at)
    return registration


def run_reminders(now, capture):
    with capture(execute=True):
        return services.queue_due_reminders(now=now)


def test_reminder_goes_out_24_hours_before_once(talk, now, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now - datetime.timedelta(days=1))
    reminder_time = talk.start - datetime.timedelta(hours=24)

    assert run_reminders(reminder_time - datetime.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert run_reminders(reminder_time, django_capture_on_commit_callbacks) == 1
    assert run_reminders(reminder_time + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == 0

    (message,) = sent()
    assert message["Subject"].startswith(f"Reminder: {talk.title}")
    assert invite_parts(message) == []
    assert OutgoingMail.objects.get(kind=Kind.REMINDER).reminder_for == talk.start


def test_no_reminder_for_late_registrants_waitlist_or_cancelled_talks(
    talk, make_event, now, django_capture_on_commit_callbacks
):
    reminder_time = talk.start - datetime.timedelta(hours=24)
    registrant(talk, registered_at=reminder_time + datetime.timedelta(minutes=5), email="late@example.edu")
    registrant(
        talk,
        registered_at=now,
        status=Registration.Status.WAITLISTED,
        email="waiting@example.edu",
    )
    cancelled_talk = make_event(start=talk.start, status=Event.Status.CANCELLED)
    registrant(cancelled_talk, registered_at=now, email="early@example.edu")

    assert run_reminders(reminder_time + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_reminder_is_retimed_when_the_talk_moves(talk, now, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now)
    first_reminder = talk.start - datetime.timedelta(hours=24)
    assert run_reminders(first_reminder, django_capture_on_commit_callbacks) == 1

    moved = Event.objects.get(pk=talk.pk)
    moved.start += datetime.timedelta(days=7)
    moved.end += datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        moved.save()

    assert run_reminders(first_reminder + datetime.timedelta(hours=2), django_capture_on_commit_callbacks) == 0
    assert run_reminders(moved.start - datetime.timedelta(hours=24), django_capture_on_commit_callbacks) == 1
    subjects = [m["Subject"].split(":")[0] for m in sent()]
    assert subjects == ["Reminder", "Updated time or place", "Reminder"]


def test_reminder_queued_before_a_move_is_not_sent_for_the_old_time(talk, now):
    registration = registrant(talk, registered_at=now)
    stale = OutgoingMail.objects.create(registration=registration, kind=Kind.REMINDER, reminder_for=talk.start)
    Event.objects.filter(pk=talk.pk).update(start=talk.start - datetime.timedelta(hours=1))

    assert deliver_mail.call(stale.pk) == OutgoingMail.Status.SKIPPED
    assert mail.outbox == []


def test_reminder_time_is_a_setting_read_at_call_time(talk, now, settings, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now)
    settings.REMINDER_BEFORE = datetime.timedelta(hours=2)

    assert run_reminders(talk.start - datetime.timedelta(hours=3), django_capture_on_commit_callbacks) == 0
    assert run_reminders(talk.start - datetime.timedelta(hours=2), django_capture_on_commit_callbacks) == 1


def test_send_queued_mail_command_delivers_left_behind_mail(talk, now):
    registration = registrant(talk, registered_at=now)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)
    OutgoingMail.objects.filter(pk=row.pk).update(created_at=now - datetime.timedelta(minutes=5))

    call_command("send_queued_mail", stdout=open("/dev/null", "w"))  # noqa: SIM115

    row.refresh_from_db()
    assert row.status == OutgoingMail.Status.SENT
    assert len(mail.outbox) == 1


def test_send_queued_mail_command_queues_due_reminders_once(talk, now, settings):
    registrant(talk, registered_at=now - datetime.timedelta(days=1))
    settings.REMINDER_BEFORE = datetime.timedelta(days=4)

    call_command("send_queued_mail", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("send_queued_mail", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert OutgoingMail.objects.filter(kind=Kind.REMINDER).count() == 1

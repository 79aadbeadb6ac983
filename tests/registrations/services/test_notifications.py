import datetime

import pytest
from django.core import mail
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from outbox.tasks import deliver_mail
from registrations import services
from registrations.mail import reminder_key
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import invite_parts, sent
from tests.registrations.services.records import mail_kinds

pytestmark = pytest.mark.django_db


# Reminders


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
    assert OutgoingMail.objects.get(kind=MailKind.REMINDER).once_key == reminder_key(talk.start)


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


def test_reminder_queued_before_a_move_is_not_sent_for_the_old_time(talk, now, outbox_row):
    registration = registrant(talk, registered_at=now)
    stale = outbox_row(registration, MailKind.REMINDER, reminder_for=talk.start)
    Event.objects.filter(pk=talk.pk).update(start=talk.start - datetime.timedelta(hours=1))

    assert deliver_mail.call(stale.pk) == OutgoingMail.Status.SKIPPED
    assert mail.outbox == []


def test_reminder_time_is_a_setting_read_at_call_time(talk, now, settings, django_capture_on_commit_callbacks):
    registrant(talk, registered_at=now)
    settings.REMINDER_BEFORE = datetime.timedelta(hours=2)

    assert run_reminders(talk.start - datetime.timedelta(hours=3), django_capture_on_commit_callbacks) == 0
    assert run_reminders(talk.start - datetime.timedelta(hours=2), django_capture_on_commit_callbacks) == 1


# resend_links ("Lost your link?")


def test_resend_links_queues_one_link_per_active_registration_and_logs_it(make_event, sign_up):
    waiting_for = make_event(capacity=0, waitlist_enabled=True)
    confirmed, waitlisted = sign_up(make_event(), email="ana@ut.edu"), sign_up(waiting_for, email="ana@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    assert services.resend_links(email="  ANA@ut.edu") == 2

    for registration in (confirmed, waitlisted):
        assert MailKind.RESEND in mail_kinds(registration)
        entry = registration.log.latest("created_at")
        assert entry.action == RegistrationLog.Action.CONFIRMATION_RESENT
        assert entry.note == "Asked for the link again."


def test_resend_links_leaves_out_cancelled_talks_erased_and_fresh_registrations(make_event, sign_up):
    called_off = make_event()
    sign_up(called_off, email="ana@ut.edu")
    Event.objects.filter(pk=called_off.pk).update(status=Event.Status.CANCELLED)
    erased = sign_up(make_event(), email="ana@ut.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    services.erase_personal_data(registrations=[erased])
    sign_up(make_event(), email="ana@ut.edu")  # confirmed minutes ago: its confirmation is on the way

    assert services.resend_links(email="ana@ut.edu") == 0
    assert services.resend_links(email="") == 0
    assert not OutgoingMail.objects.filter(kind=MailKind.RESEND).exists()

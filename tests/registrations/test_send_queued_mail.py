import datetime
import io

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from registrations.models import OutgoingMail, Registration

Kind = OutgoingMail.Kind


def send_queued_mail() -> str:
    out = io.StringIO()
    call_command("send_queued_mail", stdout=out)
    return out.getvalue()


def confirmed(event, *, registered_at):
    registration = Registration.objects.create(
        event=event, name="Ana", email="ana@example.edu", status=Registration.Status.CONFIRMED
    )
    Registration.objects.filter(pk=registration.pk).update(created_at=registered_at)
    return registration


def test_send_queued_mail_command_delivers_left_behind_mail(make_event):
    now = timezone.now()
    registration = confirmed(make_event(start=now + datetime.timedelta(days=3)), registered_at=now)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)
    OutgoingMail.objects.filter(pk=row.pk).update(created_at=now - datetime.timedelta(minutes=5))

    output = send_queued_mail()

    assert "1 messages handed to the worker" in output
    row.refresh_from_db()
    assert row.status == OutgoingMail.Status.SENT
    assert len(mail.outbox) == 1


def test_send_queued_mail_command_queues_due_reminders_once(make_event, settings):
    now = timezone.now()
    confirmed(make_event(start=now + datetime.timedelta(days=3)), registered_at=now - datetime.timedelta(days=1))
    settings.REMINDER_BEFORE = datetime.timedelta(days=4)

    assert send_queued_mail().startswith("1 reminders queued")
    assert send_queued_mail().startswith("0 reminders queued")

    assert OutgoingMail.objects.filter(kind=Kind.REMINDER).count() == 1

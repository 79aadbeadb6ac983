from django.core import mail
from django.urls import reverse

from registrations.models import OutgoingMail, Registration


def make_mail(event, email="ana@example.edu", **fields):
    registration = Registration.objects.create(
        event=event, name="Ana", email=email, status=Registration.Status.CONFIRMED
    )
    return OutgoingMail.objects.create(registration=registration, kind=OutgoingMail.Kind.CONFIRMATION, **fields)


def test_outbox_list_shows_failures_and_bounces(admin_client, event):
    failed = make_mail(event, status=OutgoingMail.Status.FAILED, attempts=1, last_error="Recipients refused")
    Registration.objects.filter(pk=failed.registration_id).update(email_bounced_at="2026-11-20T16:00:00Z")

    listing = admin_client.get(reverse("admin:registrations_outgoingmail_changelist"))
    detail = admin_client.get(reverse("admin:registrations_outgoingmail_change", args=[failed.pk]))

    assert listing.status_code == 200
    assert "ana@example.edu" in listing.content.decode()
    assert "Failed" in listing.content.decode()
    assert "Recipients refused" in detail.content.decode()


def test_send_again_action_resends_failed_mail_only(admin_client, event, django_capture_on_commit_callbacks):
    failed = make_mail(event, status=OutgoingMail.Status.FAILED, attempts=1, last_error="timeout")
    sent = make_mail(event, email="bo@example.edu", status=OutgoingMail.Status.SENT, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:registrations_outgoingmail_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "1 messages queued again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutgoingMail.Status.SENT, 2)
    assert [m.to for m in mail.outbox] == [["Ana <ana@example.edu>"]]

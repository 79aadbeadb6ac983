import datetime
import smtplib

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.core import mail
from django.db import transaction
from django.utils import timezone

from registrations import services
from registrations.models import OutgoingMail, Registration, RegistrationLog
from registrations.outbox import SENDING_TIMEOUT, deliver, is_transient, queue_mail, sweep_outbox
from tests.mime import html_body, invite, invite_parts, sent, text_body

from .providers import ScriptedBackend

Kind = OutgoingMail.Kind
Status = OutgoingMail.Status


@pytest.fixture
def scripted_provider(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.registrations.providers.ScriptedBackend"}}
    ScriptedBackend.errors = []
    ScriptedBackend.calls = 0
    return ScriptedBackend


def make_registration(event, **fields):
    defaults = {"name": "Zoë Ñúñez", "email": "zoe@example.edu", "status": Registration.Status.CONFIRMED}
    return Registration.objects.create(event=event, **(defaults | fields))


def server_error(status=503):
    class Response:
        reason = "Service Unavailable"
        text = "try later"

        def json(self):
            raise ValueError

    return AnymailAPIError("provider is down", status_code=status, response=Response())


def test_registering_sends_one_confirmation_with_invite_after_commit(
    event, sign_up, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name="Zoë Ñúñez", email="zoe@example.edu")
        # Nothing leaves inside the transaction: only the outbox row exists.
        assert mail.outbox == []
        assert OutgoingMail.objects.get().status == Status.PENDING

    (message,) = sent()
    row = OutgoingMail.objects.get()
    assert (row.kind, row.status, row.attempts) == (Kind.CONFIRMATION, Status.SENT, 1)
    assert row.sent_at is not None
    assert row.provider_message_id == "0"  # the test provider numbers its messages

    assert message.get_content_type() == "multipart/mixed"
    assert message["To"].addresses[0].display_name == "Zoë Ñúñez"
    assert message["To"].addresses[0].addr_spec == "zoe@example.edu"
    assert message["From"].addresses[0].addr_spec == "seminars@localhost"
    assert message["Reply-To"].addresses[0].addr_spec == "ifml-seminar@example.edu"
    assert message["Subject"].startswith(f"Registered: {event.title}")
    assert registration.manage_url in text_body(message)
    assert registration.manage_url in html_body(message)
    assert registration.manage_url.startswith("https://seminars.example.edu/r/")

    calendar, vevent, part = invite(message)
    assert part.get_param("method") == str(calendar["METHOD"]) == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invite.ics"
    assert str(vevent["ATTENDEE"]) == "mailto:zoe@example.edu"
    assert str(vevent["ORGANIZER"]) == "mailto:ifml-seminar@example.edu"
    assert vevent["SEQUENCE"] == 1
    registration.refresh_from_db()
    assert registration.invite_sequence == 1


def test_rolled_back_transaction_leaves_no_mail(event, django_capture_on_commit_callbacks):
    registration = make_registration(event)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_mail(registration=registration, kind=Kind.CONFIRMATION)
        raise RuntimeError("the registration failed")

    assert OutgoingMail.objects.count() == 0
    assert mail.outbox == []


def test_waitlisted_email_has_position_and_no_invite(event, django_capture_on_commit_callbacks):
    make_registration(event, email="first@example.edu", status=Registration.Status.WAITLISTED)
    second = make_registration(event, email="second@example.edu", status=Registration.Status.WAITLISTED)
    with django_capture_on_commit_callbacks(execute=True):
        queue_mail(registration=second, kind=Kind.WAITLISTED)

    assert OutgoingMail.objects.get().last_error == ""
    (message,) = sent()
    assert message["Subject"].startswith("Waiting list:")
    assert "position 2" in text_body(message)
    assert invite_parts(message) == []


def test_provider_failing_twice_still_delivers_exactly_once(
    event, scripted_provider, django_capture_on_commit_callbacks
):
    scripted_provider.errors = [server_error(503), AnymailRequestsAPIError("connection reset")]
    registration = make_registration(event)
    with django_capture_on_commit_callbacks(execute=True):
        queue_mail(registration=registration, kind=Kind.CONFIRMATION)

    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "503" in row.last_error
    first_retry = row.next_attempt_at
    assert first_retry > timezone.now()

    # Not due yet: the sweep leaves it alone.
    assert sweep_outbox(now=first_retry - datetime.timedelta(seconds=1))["enqueued"] == 0
    sweep_outbox(now=first_retry)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 2)
    assert row.next_attempt_at - first_retry >= datetime.timedelta(minutes=1)  # backing off

    sweep_outbox(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, "")
    assert scripted_provider.calls == 3
    (message,) = sent()
    assert message["Subject"].startswith("Registered:")
    assert sweep_outbox(now=timezone.now() + datetime.timedelta(days=1))["enqueued"] == 0
    assert len(mail.outbox) == 1


def test_refused_recipient_fails_for_good_and_is_logged(event, scripted_provider, django_capture_on_commit_callbacks):
    scripted_provider.errors = [AnymailRecipientsRefused("All message recipients were rejected")]
    registration = make_registration(event)
    with django_capture_on_commit_callbacks(execute=True):
        queue_mail(registration=registration, kind=Kind.CONFIRMATION)

    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "rejected" in row.last_error
    assert sweep_outbox(now=timezone.now() + datetime.timedelta(days=1))["enqueued"] == 0
    log = RegistrationLog.objects.get(action=RegistrationLog.Action.EMAIL_FAILED)
    assert log.registration == registration
    assert "rejected" in log.note
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (server_error(500), True),
        (server_error(429), True),
        (server_error(422), False),
        (AnymailRequestsAPIError("timed out"), True),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (smtplib.SMTPServerDisconnected(), True),
        (smtplib.SMTPResponseException(451, b"try again"), True),
        (smtplib.SMTPResponseException(550, b"no such user"), False),
        (smtplib.SMTPRecipientsRefused({}), False),
        (AnymailRecipientsRefused(), False),
        (ValueError("bug"), False),
    ],
)
def test_error_kinds(error, transient):
    assert is_transient(error) is transient


def test_resend_is_rate_limited(event, django_capture_on_commit_callbacks):
    registration = make_registration(event)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_mail(registration=registration, kind=Kind.CONFIRMATION) is not None
        assert queue_mail(registration=registration, kind=Kind.RESEND) is None

    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_mail(registration=registration, kind=Kind.RESEND) is not None
        assert queue_mail(registration=registration, kind=Kind.RESEND) is None

    subjects = [message["Subject"] for message in sent()]
    assert [s.split(":")[0] for s in subjects] == ["Registered", "Your registration"]
    # The re-sent invite replaces the first one.
    assert invite(sent()[1])[1]["SEQUENCE"] == 2


def test_registering_again_resends_once(event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ana@example.edu")
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ANA@example.edu ")
        sign_up(event, email="ana@example.edu")

    assert [m["Subject"].split(":")[0] for m in sent()] == ["Registered", "Your registration"]


def test_worker_dying_mid_send_is_not_sent_twice(event):
    registration = make_registration(event)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)
    started = timezone.now()
    # What a worker leaves behind when it dies after claiming the row.
    OutgoingMail.objects.filter(pk=row.pk).update(status=Status.SENDING, attempts=1, sending_started_at=started)

    assert deliver(mail_id=row.pk) == Status.SENDING
    assert sweep_outbox(now=started + SENDING_TIMEOUT - datetime.timedelta(seconds=1)) == {
        "abandoned": 0,
        "enqueued": 0,
    }
    assert sweep_outbox(now=started + SENDING_TIMEOUT + datetime.timedelta(seconds=1))["abandoned"] == 1

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "may or may not have gone out" in row.last_error
    assert mail.outbox == []
    assert RegistrationLog.objects.filter(action=RegistrationLog.Action.EMAIL_FAILED).count() == 1

    # The organizers decide to send it again.
    assert services.retry_mail(mail=row) is True
    assert deliver(mail_id=row.pk) == Status.SENT
    assert len(mail.outbox) == 1
    assert services.retry_mail(mail=row) is False


def test_worker_that_read_the_row_as_pending_too_late_does_not_send(event, monkeypatch):
    """Without SKIP LOCKED (SQLite) two workers can both read a pending row; only one may claim it."""
    from registrations import outbox

    registration = make_registration(event)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)
    still_wanted = outbox._still_wanted

    def other_worker_claims_first(mail_row):
        OutgoingMail.objects.filter(pk=mail_row.pk).update(status=Status.SENDING, attempts=1)
        return still_wanted(mail_row)

    monkeypatch.setattr(outbox, "_still_wanted", other_worker_claims_first)

    assert deliver(mail_id=row.pk) == Status.SENDING
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.attempts == 1
    registration.refresh_from_db()
    assert registration.invite_sequence == 0


def test_fresh_pending_row_is_left_to_its_task_then_swept(event):
    registration = make_registration(event)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)

    assert sweep_outbox(now=row.created_at + datetime.timedelta(seconds=30))["enqueued"] == 0
    assert sweep_outbox(now=row.created_at + datetime.timedelta(minutes=3))["enqueued"] == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_message_for_cancelled_registration_is_skipped(event, django_capture_on_commit_callbacks):
    registration = make_registration(event)
    row = OutgoingMail.objects.create(registration=registration, kind=Kind.CONFIRMATION)
    Registration.objects.filter(pk=registration.pk).update(
        status=Registration.Status.CANCELLED, cancelled_at=timezone.now()
    )

    assert deliver(mail_id=row.pk) == Status.SKIPPED
    row.refresh_from_db()
    assert "no longer confirmed" in row.last_error
    assert mail.outbox == []


@pytest.mark.parametrize(
    "name",
    [
        "Mallory\r\nBcc: victim@example.com",
        "Mallory\nTo: victim@example.com",
        'Evil, "Quoted" <x@example.com>',
        "王小明",
        "محمد",
        "<script>alert(1)</script>",
        "x" * 200,
    ],
)
def test_names_cannot_inject_headers_or_recipients(event, name, django_capture_on_commit_callbacks):
    registration = make_registration(event, name=name, email="mallory@example.edu")
    with django_capture_on_commit_callbacks(execute=True):
        queue_mail(registration=registration, kind=Kind.CONFIRMATION)

    assert OutgoingMail.objects.get().status == Status.SENT
    (django_message,) = mail.outbox
    assert [address.addr_spec for address in django_message.anymail_test_params["to"]] == ["mallory@example.edu"]
    (message,) = sent()
    (to,) = message["To"].addresses
    assert to.addr_spec == "mallory@example.edu"
    assert message["Bcc"] is None
    assert len(message.get_all("To")) == 1
    assert "\n" not in to.display_name and "\r" not in to.display_name
    header_lines = message.as_string().split("\n\n", 1)[0].splitlines()
    assert not any(line.lower().startswith(("bcc:", "cc:")) for line in header_lines)
    assert "<script>" not in html_body(message)

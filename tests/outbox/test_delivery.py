import datetime
import smtplib

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import get_date_max

from outbox import delivery, registry, signals
from outbox.delivery import SENDING_TIMEOUT, deliver, deliver_due, is_transient, sweep
from outbox.models import OutgoingMail
from outbox.services import queue_mail, send_again
from tests.mime import sent

from .conftest import NOTE

Status = OutgoingMail.Status
HOUR = datetime.timedelta(hours=1)


def recipients() -> list[str]:
    """The address each message sent so far went to, in the order sent."""
    return [message["To"].addresses[0].addr_spec for message in sent()]


def server_error(status=503):
    class Response:
        reason = "Service Unavailable"
        text = "try later"

        def json(self):
            raise ValueError

    return AnymailAPIError("provider is down", status_code=status, response=Response())


@pytest.fixture
def failures():
    """Every mail_failed signal the outbox sends, as (mail id, status at that moment)."""
    received = []

    def record(sender, mail, **kwargs):
        received.append((mail.pk, mail.status))

    signals.mail_failed.connect(record)
    yield received
    signals.mail_failed.disconnect(record)


def test_queued_mail_is_sent_once_after_commit(queue_note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue_note(to="ana@example.edu", name="Ana")
        # Nothing leaves inside the transaction: only the outbox row exists.
        assert mail.outbox == []
        assert OutgoingMail.objects.get().status == Status.PENDING

    (message,) = sent()
    row.refresh_from_db()
    assert (row.kind, row.status, row.attempts, row.recipient) == (NOTE, Status.SENT, 1, "Ana <ana@example.edu>")
    assert row.sent_at is not None
    assert row.provider_message_id == "0"  # the test provider numbers its messages
    assert message["To"].addresses[0].addr_spec == "ana@example.edu"
    assert message["Message-ID"].endswith("@seminars.example.edu>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert deliver(mail_id=row.pk) == Status.SENT
    assert len(mail.outbox) == 1


def test_rolled_back_transaction_leaves_no_mail(queue_note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_note()
        raise RuntimeError("the change failed")

    assert OutgoingMail.objects.count() == 0
    assert mail.outbox == []


@pytest.fixture
def task_rows(settings):
    """Tasks as rows of the site's database (production's default, django_tasks_db's); the rows as a query."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "seminar_site.tasks.DatabaseBackend"}}
    return DBTaskResult.objects.order_by("enqueued_at")


class Clock:
    """A process's monotonic clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """This process's waker of the sender, on a clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(delivery, "_waker", delivery._Waker(clock=clock))
    return clock


def test_with_tasks_in_the_database_a_message_is_its_row_and_the_commit_wakes_the_sender_once(
    queue_note, task_rows, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = [queue_note(to=f"guest{n}@example.edu") for n in range(3)]
        # No task per message: before the commit there is only what the transaction wrote.
        assert task_rows.count() == 0

    (task,) = task_rows
    assert task.task_path == "outbox.tasks.deliver_due_mail"
    assert task.run_after == get_date_max()  # at once
    assert mail.outbox == []  # sent by the worker, once the commit shows it the rows
    # The worker runs it: each message once; a second wake-up (another process's) finds nothing left.
    assert deliver_due() == 3
    assert deliver_due() == 0
    assert sorted(recipients()) == [row.recipient for row in rows]


def test_a_process_wakes_the_sender_at_most_once_an_interval_and_once_at_its_end(
    queue_note, task_rows, clock, django_capture_on_commit_callbacks
):
    woken = []
    for second in (0.0, 0.2, 0.5, 0.9, 1.0, 1.1):
        clock.now = 1000.0 + second
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            queue_note()
        woken.append(task_rows.count())

    # At 0.0 at once; at 0.2 one for the end of the interval (1.0), which sends 0.5 and 0.9 too;
    # at 1.0 a new interval, at once again; at 1.1 one for its end.
    assert woken == [1, 2, 2, 2, 3, 4]
    first, end_of_first, second, end_of_second = task_rows
    assert first.run_after == second.run_after == get_date_max()
    assert (end_of_first.enqueued_at + datetime.timedelta(seconds=0.75)) < end_of_first.run_after
    assert end_of_second.run_after <= before + datetime.timedelta(seconds=1)


def test_with_tasks_in_the_database_a_rollback_leaves_neither_message_nor_task(
    queue_note, task_rows, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_note()
        raise RuntimeError("the change failed")

    assert (OutgoingMail.objects.count(), task_rows.count()) == (0, 0)


def test_a_wake_up_asked_in_a_rolled_back_savepoint_does_not_stand_for_later_messages(
    queue_note, task_rows, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_note(to="gone@example.edu")
            raise RuntimeError("this part failed")
        queue_note(to="kept@example.edu")

    assert task_rows.count() == 1
    assert deliver_due() == 1
    assert recipients() == ["kept@example.edu"]


def test_the_librarys_worker_runs_the_wake_up_and_sends_each_message_once(
    transactional_db, queue_note, task_rows, clock
):
    # Committed for real, as in production: the commit writes the wake-up, the worker runs it.
    with transaction.atomic():
        queue_note(to="ana@example.edu")
        queue_note(to="ben@example.edu")

    call_command("db_worker", "--batch", "--no-startup-delay", "--backend", "default", verbosity=0)

    assert sorted(recipients()) == ["ana@example.edu", "ben@example.edu"]
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert [task.status for task in task_rows] == ["SUCCESSFUL"]


def test_a_wake_up_sends_what_is_due_oldest_first_and_leaves_the_rest(note_kind):
    now = timezone.now()
    later = OutgoingMail.objects.create(kind=NOTE, recipient="later@example.edu", next_attempt_at=now + HOUR)
    retry = OutgoingMail.objects.create(kind=NOTE, recipient="retry@example.edu", next_attempt_at=now - HOUR)
    fresh = OutgoingMail.objects.create(kind=NOTE, recipient="fresh@example.edu")
    failed = OutgoingMail.objects.create(kind=NOTE, recipient="failed@example.edu", status=Status.FAILED)

    assert deliver_due() == 2

    assert recipients() == [retry.recipient, fresh.recipient]
    for row, status in ((later, Status.PENDING), (retry, Status.SENT), (fresh, Status.SENT), (failed, Status.FAILED)):
        row.refresh_from_db()
        assert row.status == status


def test_a_long_wake_up_stops_and_hands_the_rest_to_a_new_one(note_kind, task_rows):
    rows = [OutgoingMail.objects.create(kind=NOTE, recipient=f"guest{n}@example.edu") for n in range(3)]

    assert deliver_due(seconds=0) == 0

    (task,) = task_rows
    assert task.task_path == "outbox.tasks.deliver_due_mail"
    assert {row.status for row in OutgoingMail.objects.filter(pk__in=[row.pk for row in rows])} == {Status.PENDING}


def test_unknown_kind_is_refused(db):
    with pytest.raises(registry.UnknownKind):
        queue_mail(kind="nobody.registered_this", to="ana@example.edu")
    assert not OutgoingMail.objects.exists()


def test_once_key_queues_at_most_one_message_per_object(note_kind, django_capture_on_commit_callbacks):
    about = get_user_model().objects.create(username="subject")
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_mail(kind=NOTE, to="ana@example.edu", about=about, once_key="talk-7")
        assert queue_mail(kind=NOTE, to="ana@example.edu", about=about, once_key="talk-7") is None
        assert queue_mail(kind=NOTE, to="ana@example.edu", about=about, once_key="talk-8") is not None

    assert first.about == about
    assert OutgoingMail.objects.about(about).count() == 2
    assert len(mail.outbox) == 2
    # The database itself refuses a second copy, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingMail.objects.create(kind=NOTE, recipient="x@example.edu", about=about, once_key="talk-7")
    with pytest.raises(ValueError):
        queue_mail(kind=NOTE, to="ana@example.edu", once_key="talk-9")


def test_provider_failing_twice_still_delivers_exactly_once(
    queue_note, scripted_provider, django_capture_on_commit_callbacks
):
    scripted_provider.errors = [server_error(503), AnymailRequestsAPIError("connection reset")]
    with django_capture_on_commit_callbacks(execute=True):
        queue_note()

    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "503" in row.last_error
    first_retry = row.next_attempt_at
    assert first_retry > timezone.now()

    # Not due yet: the sweep leaves it alone.
    assert sweep(now=first_retry - datetime.timedelta(seconds=1))["enqueued"] == 0
    sweep(now=first_retry)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 2)
    assert row.next_attempt_at - first_retry >= datetime.timedelta(minutes=1)  # backing off

    sweep(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, "")
    assert scripted_provider.calls == 3
    assert len(sent()) == 1
    assert sweep(now=timezone.now() + datetime.timedelta(days=1))["enqueued"] == 0
    assert len(mail.outbox) == 1


def test_refused_recipient_fails_for_good_and_tells_the_app(
    queue_note, scripted_provider, failures, django_capture_on_commit_callbacks
):
    scripted_provider.errors = [AnymailRecipientsRefused("All message recipients were rejected")]
    with django_capture_on_commit_callbacks(execute=True):
        queue_note()

    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "rejected" in row.last_error
    assert failures == [(row.pk, Status.FAILED)]
    assert sweep(now=timezone.now() + datetime.timedelta(days=1))["enqueued"] == 0
    assert mail.outbox == []


def test_a_builder_that_raises_fails_the_message_without_retrying(
    note_kind, failures, django_capture_on_commit_callbacks
):
    def broken(mail):
        raise KeyError("template variable")

    registry.register_kind(NOTE, label="Test note", build=broken)
    with django_capture_on_commit_callbacks(execute=True):
        row = queue_mail(kind=NOTE, to="ana@example.edu")

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 0  # the claim rolled back with the build
    assert "Could not build the message" in row.last_error
    assert failures == [(row.pk, Status.FAILED)]
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


def test_worker_dying_mid_send_is_not_sent_twice(note_kind, failures):
    row = OutgoingMail.objects.create(kind=NOTE, recipient="ana@example.edu")
    started = timezone.now()
    # What a worker leaves behind when it dies after claiming the row.
    OutgoingMail.objects.filter(pk=row.pk).update(status=Status.SENDING, attempts=1, sending_started_at=started)

    assert deliver(mail_id=row.pk) == Status.SENDING
    assert sweep(now=started + SENDING_TIMEOUT - datetime.timedelta(seconds=1)) == {"abandoned": 0, "enqueued": 0}
    assert sweep(now=started + SENDING_TIMEOUT + datetime.timedelta(seconds=1))["abandoned"] == 1

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "may or may not have gone out" in row.last_error
    assert mail.outbox == []
    assert failures == [(row.pk, Status.FAILED)]

    # The organizers decide to send it again.
    assert send_again(mail=row) is True
    assert deliver(mail_id=row.pk) == Status.SENT
    assert len(mail.outbox) == 1
    assert send_again(mail=row) is False


def test_worker_that_read_the_row_as_pending_too_late_does_not_send(note_kind):
    """Without SKIP LOCKED (SQLite) two workers can both read a pending row; only one may claim it."""
    row = OutgoingMail.objects.create(kind=NOTE, recipient="ana@example.edu")
    built = []

    def other_worker_claims_first(mail_row):
        OutgoingMail.objects.filter(pk=mail_row.pk).update(status=Status.SENDING, attempts=1)
        return ""

    def build(mail_row):
        built.append(mail_row.pk)
        raise AssertionError("a worker that lost the claim must not build the message")

    registry.register_kind(NOTE, label="Test note", build=build, still_wanted=other_worker_claims_first)

    assert deliver(mail_id=row.pk) == Status.SENDING
    assert mail.outbox == []
    assert built == []
    row.refresh_from_db()
    assert row.attempts == 1


def test_fresh_pending_row_is_left_to_its_task_then_swept(note_kind):
    row = OutgoingMail.objects.create(kind=NOTE, recipient="ana@example.edu")

    assert sweep(now=row.created_at + datetime.timedelta(seconds=30))["enqueued"] == 0
    assert sweep(now=row.created_at + datetime.timedelta(minutes=3))["enqueued"] == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_message_no_longer_wanted_is_skipped_with_the_apps_reason(queue_note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue_note(unwanted="The talk was cancelled before this message went out.")

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SKIPPED, 0)
    assert row.last_error == "The talk was cancelled before this message went out."
    assert mail.outbox == []
    # Sending it again asks the app again.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_again(mail=row) is True
    assert OutgoingMail.objects.get(pk=row.pk).status == Status.SKIPPED


def test_delivery_counts_say_how_each_message_fared(queue_note):
    statuses = ["sent", "sent", "pending", "sending", "failed", "skipped"]
    for number, status in enumerate(statuses):
        OutgoingMail.objects.filter(pk=queue_note(to=f"person{number}@example.edu").pk).update(status=status)
    bounced = OutgoingMail.objects.filter(status="sent").order_by("pk").first()
    OutgoingMail.objects.filter(pk=bounced.pk).update(bounced_at=timezone.now())

    assert OutgoingMail.objects.delivery_counts() == {"sent": 2, "waiting": 2, "failed": 1, "skipped": 1, "bounced": 1}
    assert OutgoingMail.objects.filter(status="failed").delivery_counts()["failed"] == 1

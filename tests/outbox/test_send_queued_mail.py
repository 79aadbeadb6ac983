import datetime
import io
import os
import signal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from outbox import registry
from outbox.management.commands import send_queued_mail as send_queued_mail_command
from outbox.models import OutgoingMail

from .conftest import NOTE


def send_queued_mail() -> str:
    out = io.StringIO()
    call_command("send_queued_mail", stdout=out)
    return out.getvalue()


def test_send_queued_mail_command_delivers_left_behind_mail(note_kind):
    row = OutgoingMail.objects.create(kind=NOTE, recipient="ana@example.edu")
    OutgoingMail.objects.filter(pk=row.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))

    output = send_queued_mail()

    assert "1 messages handed to the worker" in output
    row.refresh_from_db()
    assert row.status == OutgoingMail.Status.SENT
    assert len(mail.outbox) == 1


def test_send_queued_mail_runs_every_apps_due_mail_first(note_kind, monkeypatch):
    calls = []

    def queue_due_notes(now=None):
        calls.append(now)
        return 3

    monkeypatch.setattr(registry, "_due", {})
    registry.register_due_mail(queue_due_notes, label="notes")

    assert send_queued_mail().startswith("3 notes queued, 0 messages handed to the worker")
    assert len(calls) == 1


def test_send_queued_mail_every_stops_after_the_sweep_under_way_on_sigterm(db, monkeypatch):
    # What a deploy sends; in a container the command is PID 1, which dies of no unhandled signal.
    sweeps = []

    def sweep_interrupted_by_sigterm():
        assert not sweeps, "swept again after SIGTERM"
        sweeps.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
        return {"enqueued": 1, "abandoned": 0}

    monkeypatch.setattr(send_queued_mail_command, "sweep", sweep_interrupted_by_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    out = io.StringIO()

    call_command("send_queued_mail", "--every", "3600", stdout=out)

    assert sweeps == [1]
    assert "1 messages handed to the worker" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is before


def sweeps_then_sigterm(outcomes):
    """A stand-in for `sweep` that raises or returns each of `outcomes` in turn, then asks the command to stop."""
    calls = []

    def sweep():
        calls.append(1)
        outcome = outcomes[len(calls) - 1]
        if len(calls) == len(outcomes):
            os.kill(os.getpid(), signal.SIGTERM)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return sweep, calls


# Committed for real: between sweeps the command closes a connection left outside autocommit, as a test's is.
@pytest.mark.django_db(transaction=True)
def test_send_queued_mail_every_outlives_the_database_going_away(monkeypatch, caplog):
    from monitoring.models import Heartbeat
    from seminar_site import outage
    from tests.seminar_site.failing_urls import unreachable_database_error

    # A PostgreSQL restart: the sweeper must be there when it is back (under honcho, its exit stops the site).
    monkeypatch.setattr(outage, "_outage", outage._Outage())
    done = {"enqueued": 1, "abandoned": 0}
    sweep, calls = sweeps_then_sigterm([unreachable_database_error(), unreachable_database_error(), done])
    monkeypatch.setattr(send_queued_mail_command, "sweep", sweep)
    out = io.StringIO()

    call_command("send_queued_mail", "--every", "1", stdout=out)

    assert len(calls) == 3
    assert "1 messages handed to the worker" in out.getvalue()
    assert Heartbeat.objects.filter(process="sweeper").exists()
    # Logged once for the outage, not a traceback per sweep.
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [record.getMessage().split(" (")[0] for record in errors] == ["The database cannot be reached"]


@pytest.mark.django_db(transaction=True)
def test_send_queued_mail_every_logs_a_failed_sweep_and_sweeps_again(monkeypatch, caplog):
    done = {"enqueued": 0, "abandoned": 0}
    sweep, calls = sweeps_then_sigterm([RuntimeError("a bug of a sweep"), done])
    monkeypatch.setattr(send_queued_mail_command, "sweep", sweep)

    call_command("send_queued_mail", "--every", "1", stdout=io.StringIO())

    assert len(calls) == 2
    [failure] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert failure.exc_info[1].args == ("a bug of a sweep",)

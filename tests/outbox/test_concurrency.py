"""Two workers over the same outbox rows, on real PostgreSQL connections."""

import threading

import pytest
from django.core import mail
from django.db import connection

from outbox.delivery import deliver
from outbox.models import OutgoingMail

from .conftest import NOTE
from .providers import BlockingBackend, ScriptedBackend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(target, results, *args):
    def run():
        try:
            results.append(target(*args))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_second_worker_skips_a_message_being_sent(require_postgres, note_kind, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.outbox.providers.BlockingBackend"}}
    BlockingBackend.entered.clear()
    BlockingBackend.release.clear()
    row = OutgoingMail.objects.create(kind=NOTE, recipient="ana@example.edu")

    results = []
    first = in_thread(lambda: deliver(mail_id=row.pk), results)
    assert BlockingBackend.entered.wait(timeout=30)
    # The first worker is talking to the provider right now.
    second = in_thread(lambda: deliver(mail_id=row.pk), results)
    second.join(timeout=30)
    assert results == [OutgoingMail.Status.SENDING]
    BlockingBackend.release.set()
    first.join(timeout=30)

    assert sorted(results) == [OutgoingMail.Status.SENDING, OutgoingMail.Status.SENT]
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutgoingMail.Status.SENT, 1)


def test_two_workers_racing_send_each_message_once(require_postgres, note_kind, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.outbox.providers.ScriptedBackend"}}
    ScriptedBackend.errors = []
    ScriptedBackend.calls = 0
    rows = [
        OutgoingMail.objects.create(kind=NOTE, recipient=f"p{n}@example.edu", data={"name": f"P{n}"}) for n in range(20)
    ]
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait(timeout=30)
        return [deliver(mail_id=row.pk) for row in rows]

    results = []
    threads = [in_thread(worker, results) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=60)

    assert ScriptedBackend.calls == 20
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"P{n} <p{n}@example.edu>" for n in range(20))
    assert set(OutgoingMail.objects.values_list("status", "attempts")) == {(OutgoingMail.Status.SENT, 1)}

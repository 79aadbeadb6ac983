"""Double submits on real PostgreSQL connections: one confirmation, one announcement per follower."""

import threading
import time

import pytest
from django.db import connection, transaction

from events.models import Event
from followers import services
from followers.models import Dispatch, Follower
from tests.mime import sent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(target, count=2):
    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait(timeout=30)
            target()
        except Exception as error:  # reported below, with the thread's own traceback lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_simultaneous_publishes_announce_once(require_postgres, series, make_event):
    for address in ("ana@example.edu", "bob@example.edu"):
        services.confirm(
            follower=services.follow(series=series, email=address), wants_announcements=True, wants_digest=False
        )
    draft = make_event(status=Event.Status.DRAFT)
    copies = iter([Event.objects.get(pk=draft.pk), Event.objects.get(pk=draft.pk)])
    sent_before = len(sent())

    def publish():
        event = next(copies)
        with transaction.atomic():
            event.status = Event.Status.PUBLISHED
            event.save()

    race(publish)

    assert Dispatch.objects.count() == 1
    announcements = [m for m in sent()[sent_before:] if "List-Unsubscribe" in m]
    assert sorted(m["To"].addresses[0].addr_spec for m in announcements) == ["ana@example.edu", "bob@example.edu"]


def test_two_simultaneous_follow_requests_send_one_confirmation(require_postgres, series):
    race(lambda: services.follow(series=series, email="ana@example.edu"))

    assert Follower.objects.count() == 1
    assert len(sent()) == 1


def test_two_simultaneous_link_requests_send_one_link(require_postgres, series, monkeypatch):
    services.confirm(
        follower=services.follow(series=series, email="ana@example.edu"), wants_announcements=True, wants_digest=False
    )
    sent_before = len(sent())
    queue_mail = services.outbox.queue_mail

    def slow_queue_mail(**kwargs):
        time.sleep(0.3)  # between "was it sent lately?" and the new row: where two requests would both say no
        return queue_mail(**kwargs)

    monkeypatch.setattr(services.outbox, "queue_mail", slow_queue_mail)

    race(lambda: services.send_manage_links(email="ana@example.edu"))

    assert [m["Subject"] for m in sent()[sent_before:]] == ["Change what you get from IFML Seminar"]

"""The figures apps contribute to a scrape, from the database, at scrape time."""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from monitoring import heartbeats, registry
from monitoring import scrape as scraping
from monitoring.models import Heartbeat
from outbox.management.commands import send_queued_mail
from outbox.models import OutgoingMail
from outbox.tasks import deliver_mail
from registrations.models import Registration

pytestmark = pytest.mark.django_db


def test_registrations_by_status_name_every_status_of_talks_not_over(scrape, make_event, sign_up):
    event = make_event(capacity=2, waitlist_enabled=True)
    for _ in range(3):
        sign_up(event)
    cancelled = sign_up(make_event(capacity=5))
    Registration.objects.filter(pk=cancelled.pk).update(status=Registration.Status.CANCELLED)
    past = make_event(start=timezone.now() - datetime.timedelta(days=7))
    Registration.objects.create(event=past, name="Past", email="past@example.edu", status="confirmed")

    metrics = scrape()

    # Every status the model knows, a new one too, with 0 where none has it.
    assert metrics.labels("seminar_registrations", "status") == set(Registration.Status.values)
    assert metrics.value("seminar_registrations", status="confirmed") == 2
    assert metrics.value("seminar_registrations", status="waitlisted") == 1
    assert metrics.value("seminar_registrations", status="cancelled") == 1


def test_the_outbox_says_what_waits_since_when_and_what_failed(scrape):
    now = timezone.now()
    for minutes, status in [(30, "pending"), (12, "pending"), (1, "sending"), (90, "failed"), (600, "sent")]:
        mail = OutgoingMail.objects.create(kind="tests.note", recipient="ana@example.edu", status=status)
        OutgoingMail.objects.filter(pk=mail.pk).update(created_at=now - datetime.timedelta(minutes=minutes))

    metrics = scrape()

    assert metrics.value("seminar_outbox_unsent_messages") == 3
    assert 30 * 60 <= metrics.value("seminar_outbox_oldest_unsent_age_seconds") < 31 * 60
    assert metrics.value("seminar_outbox_failed_messages") == 1


def test_an_empty_outbox_reads_zero(scrape):
    metrics = scrape()
    assert metrics.value("seminar_outbox_unsent_messages") == 0
    assert metrics.value("seminar_outbox_oldest_unsent_age_seconds") == 0


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_task_queue_lag_is_the_wait_of_the_oldest_task_due(scrape, database_tasks):
    from django_tasks_db.models import DBTaskResult

    deliver_mail.enqueue(1)
    oldest = deliver_mail.enqueue(2)
    DBTaskResult.objects.filter(pk=oldest.id).update(enqueued_at=timezone.now() - datetime.timedelta(minutes=5))
    # Not due yet: no lag.
    deliver_mail.using(run_after=timezone.now() + datetime.timedelta(hours=1)).enqueue(3)

    metrics = scrape()

    assert metrics.value("seminar_task_queue_ready_tasks", queue="default") == 2
    assert 300 <= metrics.value("seminar_task_queue_lag_seconds", queue="default") < 360


def test_an_idle_task_queue_reads_zero(scrape, database_tasks):
    metrics = scrape()
    assert metrics.value("seminar_task_queue_ready_tasks", queue="default") == 0
    assert ("seminar_task_queue_lag_seconds", frozenset({("queue", "default")})) in metrics.samples


def test_each_collector_asks_the_database_once(django_assert_num_queries, database_tasks):
    collectors = {collector.name: collector for collector in registry.collectors()}

    for name in ("outbox", "registrations", "task queue"):
        with django_assert_num_queries(1):
            list(collectors[name].collect())


def test_a_failing_collector_is_left_out_and_the_others_answer(scrape, caplog):
    def broken():
        raise ZeroDivisionError("a bug in a collector")

    def fine():
        yield GaugeMetricFamily("seminar_test_fine", "A collector that works.", value=7)

    registry.register_collector(broken, name="broken")
    registry.register_collector(fine, name="fine")
    try:
        with caplog.at_level(logging.ERROR):
            metrics = scrape()
    finally:
        registry.unregister_collector("broken")
        registry.unregister_collector("fine")

    assert metrics.value("seminar_test_fine") == 7
    assert metrics.value("seminar_database_up") == 1
    assert "seminar_outbox_unsent_messages" in metrics.text
    assert "The broken metrics could not be collected" in caplog.text


def test_while_the_database_does_not_answer_only_the_counts_are_scraped(scrape, monkeypatch):
    monkeypatch.setattr(scraping, "database_answers", lambda: False)

    metrics = scrape()

    assert metrics.value("seminar_database_up") == 0
    assert "seminar_http_requests_total" in metrics.text
    assert "seminar_outbox_unsent_messages" not in metrics.text


def sweep_once():
    call_command("send_queued_mail", stdout=io.StringIO())


def test_the_sweeper_s_heartbeat_tells_how_long_ago_it_last_swept(scrape):
    # Never swept: no series at all (the alert on absent() catches a sweeper that never started).
    assert "seminar_heartbeat_age_seconds{" not in scrape().text

    sweep_once()

    assert 0 <= scrape().value("seminar_heartbeat_age_seconds", process="sweeper") < 60
    Heartbeat.objects.filter(process="sweeper").update(seen_at=timezone.now() - datetime.timedelta(minutes=10))
    assert 600 <= scrape().value("seminar_heartbeat_age_seconds", process="sweeper") < 660

    sweep_once()

    assert scrape().value("seminar_heartbeat_age_seconds", process="sweeper") < 60
    assert Heartbeat.objects.count() == 1


def test_a_heartbeat_is_one_statement(db, django_assert_num_queries):
    heartbeats.beat(process="sweeper")
    with django_assert_num_queries(1):
        heartbeats.beat(process="sweeper")
    assert Heartbeat.objects.get().seen_at > timezone.now() - datetime.timedelta(seconds=5)


def test_a_sweep_that_fails_leaves_the_heartbeat_as_it_was(scrape, monkeypatch):
    def broken():
        raise RuntimeError("the provider's API is down")

    monkeypatch.setattr(send_queued_mail, "sweep", broken)

    with pytest.raises(RuntimeError):
        sweep_once()

    assert not Heartbeat.objects.exists()
    assert "seminar_heartbeat_age_seconds{" not in scrape().text

"""Benchmarks for the paths that carry load: `make bench`.

Runs against a throw-away test database (SQLite by default, PostgreSQL when
DATABASE_URL points to one) and prints throughput, queries per operation and
peak Python memory. Goals live here, not in timed tests.
"""

import datetime
import os
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seminar_site.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from events.models import Event, Series, Speaker, Venue  # noqa: E402
from outbox import delivery  # noqa: E402
from outbox.models import OutgoingMail  # noqa: E402
from registrations import services  # noqa: E402
from registrations.models import Registration  # noqa: E402


def report(name, count, seconds, queries=None, peak=None):
    line = f"{name:<44} {count / seconds:10.1f} ops/s  ({count} in {seconds:.2f} s)"
    if queries is not None:
        line += f"  {queries / count:.1f} queries/op"
    if peak is not None:
        line += f"  peak {peak / 1024:.0f} KiB"
    print(line, flush=True)


def counting_queries():
    # The query log keeps only the last 9000 queries (migrations alone fill it).
    reset_queries()
    return CaptureQueriesContext(connection)


def peak_memory(operation, times=20):
    """Peak Python allocation while repeating `operation` (measured apart from the timing: tracing is slow)."""
    tracemalloc.start()
    for _ in range(times):
        operation()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def make_event(slug, capacity):
    series, _ = Series.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "organizer_name": "Bench", "organizer_email": "bench@example.edu"}
    )
    venue, _ = Venue.objects.get_or_create(room="GDC 6.302", building="Gates Dell Complex", default_capacity=40)
    speaker, _ = Speaker.objects.get_or_create(name="Atlas Wang", affiliation="UT Austin")
    start = timezone.now() + datetime.timedelta(days=7)
    event = Event.objects.create(
        series=series,
        venue=venue,
        title=f"Benchmark talk {slug}",
        slug=slug,
        abstract="Paragraph one.\n\nParagraph two. " * 20,
        start=start,
        end=start + datetime.timedelta(hours=1),
        capacity=capacity,
        status=Event.Status.PUBLISHED,
    )
    event.speakers.add(speaker)
    return event


def bench_talk_page(requests=300):
    event = make_event("page", capacity=100)
    for i in range(60):
        services.register(event=event, name=f"Person {i}", email=f"p{i}@example.edu")
    client = Client()
    url = event.get_absolute_url()
    client.get(url)  # warm template caches
    started = time.perf_counter()
    for _ in range(requests):
        assert client.get(url).status_code == 200
    elapsed = time.perf_counter() - started
    # Each request empties the query log, so count one request through a wrapper.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(url)
    peak = peak_memory(lambda: client.get(url))
    report("talk page GET", requests, elapsed, len(queries) * requests, peak)


def bench_register_serial(count=500):
    event = make_event("serial", capacity=count // 5)
    with counting_queries() as queries:
        started = time.perf_counter()
        for i in range(count):
            services.register(event=event, name=f"Person {i}", email=f"s{i}@example.edu")
        elapsed = time.perf_counter() - started
    report("register (one client, 80% waitlisted)", count, elapsed, len(queries))


def bench_register_concurrent(count=400, workers=16):
    event = make_event("concurrent", capacity=count // 4)
    barrier = threading.Barrier(workers)

    def work(offset):
        barrier.wait()
        try:
            for i in range(offset, count, workers):
                services.register(event=event, name=f"Person {i}", email=f"c{i}@example.edu")
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    elapsed = time.perf_counter() - started
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    assert confirmed == event.capacity, (confirmed, event.capacity)
    report(f"register ({workers} concurrent clients)", count, elapsed)


def bench_deliver_mail(count=200):
    event = make_event("mail", capacity=count)
    for i in range(count):
        services.register(event=event, name=f"Person {i}", email=f"m{i}@example.edu")
    ids = list(OutgoingMail.objects.filter(registration__event=event).values_list("pk", flat=True))
    with counting_queries() as queries:
        started = time.perf_counter()
        for mail_id in ids:
            delivery.deliver(mail_id=mail_id)
        elapsed = time.perf_counter() - started
    extra = services.register(event=event, name="One more", email="extra@example.edu").registration
    peak = peak_memory(lambda: delivery.deliver(mail_id=extra.outgoing_mails.get().pk), times=1)
    assert OutgoingMail.objects.filter(pk__in=ids, status=OutgoingMail.Status.SENT).count() == len(ids)
    report("deliver confirmation with invite", len(ids), elapsed, len(queries), peak)


def main():
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database: {connection.vendor}, Python {sys.version.split()[0]}, Django {django.get_version()}")
    try:
        bench_talk_page()
        bench_register_serial()
        bench_deliver_mail()
        if connection.vendor == "postgresql":
            bench_register_concurrent()
        else:
            print("register (concurrent clients): skipped, needs PostgreSQL (set DATABASE_URL)")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

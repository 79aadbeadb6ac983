"""Held seats as deployed: production-mode gunicorn, the task worker and the sweeper as processes of
their own, on the test's PostgreSQL database; emails read back from the .eml files the worker wrote.

- 40 people behind one address all end on a page of their own with a seat or a hold, and the
  emailed button turns each hold into a seat;
- a script registers 100 made-up addresses from one address and never confirms: after the hold
  time at most HOLD_AFTER of them keep a seat, and the real people are promoted in order, each
  emailed once;
- 200 racers over two hosts sharing Redis, sign-ups, confirmations and releases mixed: held +
  confirmed never pass capacity, every count exact;
- the sweeper killed in the middle of a release and the worker stopped and started again:
  nothing released twice, nothing kept, nobody emailed twice.
"""

import contextlib
import datetime
import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_ratelimit.core import _get_window

from events.models import Event
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import MailKind, Registration, RegistrationLog
from seminar_site.limits import SIGN_UP_WINDOW
from tests.conftest import _test_database_url
from tests.servers import (
    BASE_DIR,
    CSRF_TOKEN,
    REQUEST_TIMEOUT,
    Host,
    Visitor,
    production_environment,
    proxy_headers,
    serve,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status, Action = Registration.Status, RegistrationLog.Action
COMMAND_TIMEOUT = 300


@pytest.fixture
def site(require_postgres, static_root, tmp_path):
    """The environment of every process of the site: the test database, emails as .eml files in `mail`."""
    mail = tmp_path / "mail"
    environment = production_environment(
        DATABASE_URL=_test_database_url(),
        STATIC_ROOT=str(static_root),
        TRUSTED_PROXY_COUNT="1",
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        # The test reads what the processes sign (the links in their emails) and signs what they read.
        SECRET_KEY=settings.SECRET_KEY,
        MAIL_BACKEND="seminar_site.mail.EmlFileBackend",
        MAIL_FILE_PATH=str(mail),
    )
    yield environment, mail
    connection.close()


def manage(environment, *args, timeout=COMMAND_TIMEOUT) -> str:
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def deliver_all(environment):
    """The email worker, once through everything queued (as `db_worker` runs in production)."""
    manage(environment, "db_worker", "--batch", "--no-startup-delay", "-v", "0")


@contextlib.contextmanager
def process(environment, log: Path, *args):
    """A manage.py process running until the block ends (stopped with its process group, also on failure)."""
    with log.open("wb") as out:
        child = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)


def wait_for(condition, *, timeout=120, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def emails(mail_dir: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(mail_dir.glob("*.eml"))
    ]


def to(message) -> str:
    return message["To"].addresses[0].addr_spec


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def address_with_a_fresh_hour(slug: str, prefix: str = "203.0.113") -> str:
    """A client address whose hour of counted sign-ups for talk `slug` has 10 minutes or more to run.

    The counters are fixed windows, each ending at a moment of its own: a window turning in the
    middle of a test would start the count again.
    """
    for last in range(1, 255):
        address = f"{prefix}.{last}"
        if _get_window(f"{address}|{slug}", SIGN_UP_WINDOW) - time.time() > 600:
            return address
    raise AssertionError("no address with a fresh hour")


def path_of(url: str) -> str:
    return urlsplit(url).path


def press(host: Host, url: str) -> requests.Response:
    """Open an emailed link on `host` as a browser does, then press the page's button (GET, then POST).

    A page without a button (its time ran out, say) is returned as it is.
    """
    page = requests.get(host.url + path_of(url), headers=proxy_headers(host), timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200, page.text[:2000]
    if "csrftoken" not in page.cookies:
        return page
    cookies = {"csrftoken": page.cookies["csrftoken"]}
    return requests.post(
        host.url + path_of(url),
        data={"csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1]},
        headers=proxy_headers(host, cookies),
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def assert_counts_exact(event):
    event.refresh_from_db()
    registrations = Registration.objects.filter(event=event)
    assert event.seats_taken == registrations.with_place().in_person().count() <= event.capacity
    assert event.online_seats_taken == registrations.with_place().online().count()
    # Nobody promoted, released or confirmed twice.
    for action in (Action.PROMOTED, Action.HOLD_EXPIRED, Action.HOLD_CONFIRMED, Action.OFFERED):
        entries = RegistrationLog.objects.filter(registration__event=event, action=action)
        assert not entries.values("registration").annotate(n=Count("pk")).filter(n__gt=1).exists()


def test_forty_people_behind_one_address_all_get_a_seat_or_a_hold_and_keep_it_by_email(site, make_event, tmp_path):
    environment, mail = site
    event = make_event(capacity=200)
    lab = address_with_a_fresh_hour(event.slug)

    with serve(environment, tmp_path / "host.log") as host:

        def sign_up(n):
            visitor = Visitor(host, event)
            response = visitor.register(host, event, n, client_ip=lab)
            assert response.status_code == 302, response.text[:2000]
            own = requests.get(
                host.url + response.headers["Location"],
                headers=proxy_headers(host, visitor.cookies),
                timeout=REQUEST_TIMEOUT,
            )
            return own

        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = list(pool.map(sign_up, range(40)))

        for n, page in enumerate(pages):
            assert page.status_code == 200
            text = page_text(page)
            assert f"person{n}@example.edu" in text
            assert ("Thank you, your seat is confirmed" in text) != ("Check your email to keep your seat by" in text)
        registrations = Registration.objects.filter(event=event)
        assert registrations.count() == 40
        assert (registrations.confirmed().count(), registrations.held().count()) == (10, 30)
        assert {r.hold_reason for r in registrations.held()} == {"address"}

        deliver_all(environment)
        sent = emails(mail)
        holds = [message for message in sent if message["Subject"].startswith("Confirm by ")]
        assert len(holds) == 30 and len(sent) == 40
        # No calendar entry until the seat is theirs.
        assert {tuple(part.get_content_type() for part in message.walk()) for message in holds} == {
            ("multipart/alternative", "text/plain", "text/html")
        }

        def keep_the_seat(message):
            keep = next(link for link in re.findall(r"https://\S+", text_of(message)) if link.endswith("/keep/"))
            assert press(host, keep).status_code == 302
            return requests.get(host.url + path_of(keep), headers=proxy_headers(host), timeout=REQUEST_TIMEOUT)

        with ThreadPoolExecutor(max_workers=8) as pool:
            for after in pool.map(keep_the_seat, holds):
                assert "Your seat is confirmed" in page_text(after)

        deliver_all(environment)

    assert registrations.confirmed().count() == 40
    event.refresh_from_db()
    assert event.seats_taken == 40
    confirmations = [m for m in emails(mail) if m["Subject"].startswith("Registered:")]
    assert sorted(to(m) for m in confirmations) == sorted(f"person{n}@example.edu" for n in range(40))
    for message in confirmations:
        (invite,) = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
        assert invite.get_param("method") == "REQUEST"
        assert "SEQUENCE:0" in invite.get_content()


def test_a_script_with_100_made_up_addresses_keeps_at_most_hold_after_seats(site, make_event, tmp_path):
    environment, mail = site
    # Holds last 15 seconds here; everything else as shipped.
    environment |= {"SEAT_HOLD_MINUTES": "0.25"}
    event = make_event(capacity=30)
    script = address_with_a_fresh_hour(event.slug)

    with serve(environment, tmp_path / "host.log") as host:
        visitor = Visitor(host, event)

        def fake(n):
            response = requests.post(
                f"{host.url}/events/{event.slug}/register/",
                data={
                    "csrfmiddlewaretoken": visitor.token,
                    "name": f"Bot {n}",
                    "email": f"bot{n}@made-up.example",
                    "consent": "on",
                    "website": "",
                },
                headers=proxy_headers(host, visitor.cookies, **{"X-Forwarded-For": script}),
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
            return response.status_code

        def real(n):
            # Each from an address of their own, joining while the script runs.
            return Visitor(host, event).register(host, event, n, client_ip=f"198.51.100.{n + 1}").status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            bots = [pool.submit(fake, n) for n in range(100)]
            wait_for(lambda: Registration.objects.filter(event=event).count() >= 40, what="the script to fill the talk")
            people = [pool.submit(real, n) for n in range(25)]
            script_statuses = sorted(future.result() for future in bots)
            assert [future.result() for future in people] == [302] * 25
    # The address limit, a backstop, stopped the script at 60 sign-ups this hour.
    assert script_statuses == [302] * 60 + [429] * 40

    registrations = Registration.objects.filter(event=event)
    bots, people = registrations.filter(name__startswith="Bot"), registrations.filter(name__startswith="Person")
    # Ten sign-ups from the script's address went through as usual; every other one must prove its address.
    assert bots.count() == 60
    assert bots.filter(hold_reason="").count() == 10
    assert bots.awaiting_confirmation().count() == 50
    assert people.waitlisted().count() == 25 and not people.awaiting_confirmation().exists()
    queue_order = [r.pk for r in people.order_by("created_at", "pk")]

    wait_for(
        lambda: timezone.now() > registrations.awaiting_confirmation().latest("hold_until").hold_until,
        what="the hold time to pass",
    )
    swept = manage(environment, "send_queued_mail")
    assert "50 expired holds released" in swept
    # Run again (a restart of the sweeper): nothing left to release.
    assert "0 expired holds released" in manage(environment, "send_queued_mail")
    deliver_all(environment)

    kept = bots.with_place().count()
    assert kept <= 10 and kept == bots.confirmed().count()
    assert not registrations.awaiting_confirmation().exists()
    event.refresh_from_db()
    assert event.seats_taken == 30
    # The real people, promoted in the order they joined the waiting list.
    promoted = [r.pk for r in people.confirmed().order_by("created_at", "pk")]
    assert len(promoted) == 30 - kept >= 20
    assert promoted == queue_order[: len(promoted)]
    still_waiting = people.waitlisted().order_by("created_at", "pk")
    assert [r.pk for r in still_waiting] == queue_order[len(promoted) :]
    assert [r.waitlist_position() for r in still_waiting] == list(range(1, len(still_waiting) + 1))
    assert_counts_exact(event)

    sent = emails(mail)
    promotions = [m for m in sent if m["Subject"].startswith("A seat opened up")]
    assert sorted(to(m) for m in promotions) == sorted(r.email for r in people.confirmed())
    assert len({to(m) for m in promotions}) == len(promotions) == len(promoted)
    # The bots released at the end of their hold time hear nothing more than the button they never pressed.
    released = {r.email for r in bots.filter(status=Status.CANCELLED)}
    assert len(released) == 60 - kept
    assert all(m["Subject"].startswith("Confirm by ") for m in sent if to(m) in released)


def test_200_racers_over_two_hosts_mixing_holds_and_confirmations_never_pass_capacity(
    two_hosts, shared_redis, make_event, settings
):
    event = make_event(capacity=50)
    # Seats held before the race: 20 to be confirmed during it, 10 whose time has run out.
    held = [
        services.register(
            event=event, name=f"Held {n}", email=f"held{n}@example.edu", signups_from_address=11
        ).registration
        for n in range(30)
    ]
    expired = held[20:]
    Registration.objects.filter(pk__in=[r.pk for r in expired]).update(
        hold_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    hosts = two_hosts(CACHE_URL=shared_redis, SECRET_KEY=settings.SECRET_KEY)
    visitor = Visitor(hosts[0], event)
    crowd = address_with_a_fresh_hour(event.slug)
    stop_sweeping = threading.Event()

    def sign_up(n):
        # A third from one crowded address (held past ten, under the limit of 60), the rest from addresses of their own.
        address = crowd if n % 3 == 0 else f"198.51.100.{n % 250}"
        return visitor.register(hosts[n % 2], event, n, client_ip=address).status_code

    def keep(n, registration):
        response = press(hosts[n % 2], registration.keep_seat_url)
        # A hold whose time had run out (released meanwhile, or on this press) gets the page that says so.
        if response.status_code == 200:
            assert "Your time to confirm has run out" in page_text(response)
            return "ran out"
        return response.status_code

    def sweep():
        released = 0
        try:
            while not stop_sweeping.is_set():
                released += services.release_expired_holds()
                time.sleep(0.05)
        finally:
            connection.close()
        return released

    with ThreadPoolExecutor(max_workers=40) as pool:
        sweeper = pool.submit(sweep)
        try:
            jobs = [pool.submit(sign_up, n) for n in range(170)]
            jobs[85:85] = [pool.submit(keep, n, registration) for n, registration in enumerate(held)]
            statuses = [job.result() for job in jobs]
        finally:
            stop_sweeping.set()
        sweeper.result()

    assert statuses[:85] + statuses[115:] == [302] * 170
    # The holds pressed in time became seats; those pressed too late were refused, however the race went.
    assert statuses[85:105] == [302] * 20
    assert set(statuses[105:115]) <= {302, "ran out"}
    registrations = Registration.objects.filter(event=event)
    assert registrations.count() == 200
    assert_counts_exact(event)
    event.refresh_from_db()
    confirmed, on_hold, waiting = registrations.confirmed(), registrations.held(), registrations.waitlisted()
    assert confirmed.count() + on_hold.count() == event.seats_taken == 50
    assert (
        confirmed.count() + on_hold.count() + waiting.count() + registrations.filter(status=Status.CANCELLED).count()
        == 200
    )
    # The holds pressed in time are seats; those whose time had run out were released, each once.
    assert {r.status for r in registrations.filter(pk__in=[r.pk for r in held[:20]])} == {Status.CONFIRMED}
    assert {r.status for r in registrations.filter(pk__in=[r.pk for r in expired])} == {Status.CANCELLED}
    assert RegistrationLog.objects.filter(registration__in=expired, action=Action.HOLD_EXPIRED).count() == 10
    # Every promotion came with one message.
    promoted = RegistrationLog.objects.filter(registration__event=event, action=Action.PROMOTED).count()
    assert OutgoingMail.objects.filter(kind=MailKind.PROMOTED).count() == promoted
    assert all("POST /r/[token]/keep/" in host.log() for host in hosts)


def test_releasing_survives_the_sweeper_killed_midway_and_a_worker_restart(site, make_event, tmp_path):
    environment, mail = site
    soon = timezone.now() + datetime.timedelta(hours=3)
    # Six talks a week away (a freed seat is given) and six starting soon (it is offered).
    talks = [make_event(capacity=2, start=soon) if n % 2 else make_event(capacity=2) for n in range(12)]
    for index, talk in enumerate(talks):
        for n in range(2):
            services.register(
                event=talk, name=f"Bot {index}-{n}", email=f"bot{index}-{n}@made-up.example", signups_from_address=11
            )
        for n in range(2):
            services.register(event=talk, name=f"Person {index}-{n}", email=f"p{index}-{n}@example.edu")
    Registration.objects.held().update(hold_until=timezone.now() - datetime.timedelta(seconds=1))
    OutgoingMail.objects.all().delete()
    talks.sort(key=lambda talk: talk.pk)
    blocked = talks[6]
    locked, release_lock = threading.Event(), threading.Event()

    def hold_the_talk():
        # Another transaction holds the seventh talk's lock: the sweeper waits on it, halfway through.
        try:
            with transaction.atomic():
                Event.objects.select_for_update().get(pk=blocked.pk)
                locked.set()
                release_lock.wait(timeout=120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_talk)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        released = RegistrationLog.objects.filter(action=Action.HOLD_EXPIRED)
        with process(environment, tmp_path / "sweeper-1.log", "send_queued_mail", "--every", "1") as sweeper:
            wait_for(lambda: released.count() == 12, what="the first six talks to be released")
            time.sleep(1)  # now waiting on the seventh talk's lock, inside its transaction
            os.killpg(sweeper.pid, signal.SIGKILL)
            sweeper.wait(timeout=30)
    finally:
        release_lock.set()
        holder.join(timeout=60)

    # Killed in the middle: what it did is whole, what it was doing is not done at all.
    assert released.count() == 12
    assert Registration.objects.filter(event=blocked).held().count() == 2
    for talk in talks:
        assert_counts_exact(talk)

    # Two sweepers at once after the restart, and a worker stopped (SIGTERM) once it has sent a few
    # messages, then started again.
    with (
        process(environment, tmp_path / "sweeper-2.log", "send_queued_mail", "--every", "1"),
        process(environment, tmp_path / "sweeper-3.log", "send_queued_mail", "--every", "1"),
    ):
        bots_held = Registration.objects.awaiting_confirmation().filter(hold_reason="address")
        wait_for(lambda: not bots_held.exists(), what="every hold to be released")
        with process(environment, tmp_path / "worker-1.log", "db_worker", "--no-startup-delay", "-v", "0"):
            wait_for(lambda: OutgoingMail.objects.filter(status="sent").count() >= 5, what="a few messages sent")
        deliver_all(environment)

    assert released.count() == 24
    for talk in talks:
        assert_counts_exact(talk)
        registrations = Registration.objects.filter(event=talk)
        assert registrations.filter(name__startswith="Bot", status=Status.CANCELLED).count() == 2
        people = registrations.filter(name__startswith="Person")
        if talk.start <= soon:
            # Offered, not given: each waits for its own button.
            assert {(r.status, r.hold_reason) for r in people} == {(Status.HELD, "offer")}
        else:
            assert {r.status for r in people} == {Status.CONFIRMED}
    sent = emails(mail)
    recipients = sorted(to(message) for message in sent)
    people = Registration.objects.filter(name__startswith="Person")
    assert recipients == sorted(person.email for person in people)
    offers = [m for m in sent if m["Subject"].startswith("A seat is free for you until")]
    assert len(offers) == 12 and not any(
        part.get_content_type() == "text/calendar" for m in offers for part in m.walk()
    )
    assert OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT).count() == 24 == OutgoingMail.objects.count()

import contextlib
import datetime
import itertools
import os
import uuid

import pytest
from django.utils import timezone, translation

from events.models import Event, Question, Series, SeriesMember, Speaker, Venue
from outbox import delivery
from registrations import services

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _test_mailer(settings):
    # The anymail test backend records each message exactly as a provider would receive it.
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SITE_URL = "https://seminars.example.edu"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The production hasher costs about a second per password on a slow machine, and
    # fixtures create several staff users per test. Hashes made by other processes
    # (a gunicorn test's own manage.py) still check: PBKDF2 stays in the list.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _site_language():
    # LocaleMiddleware activates each request's language in the thread and nothing
    # deactivates it: without this, a test that asked for a page in Spanish would
    # leave the next test speaking Spanish.
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    # Tasks run in-process when enqueued (on commit: use
    # django_capture_on_commit_callbacks(execute=True) to deliver queued email).
    # This backend cannot defer, so retries wait for an explicit outbox sweep().
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _fresh_mail_waker(monkeypatch):
    # Where a test puts tasks in the database, the outbox's wake-ups (one a second per process)
    # start afresh: none stands for a task row an earlier test's database has lost.
    monkeypatch.setattr(delivery, "_waker", delivery._Waker())


@pytest.fixture(autouse=True)
def materials_dir(settings, tmp_path_factory):
    """Uploaded materials go to a folder of the test's own, never to var/."""
    location = tmp_path_factory.mktemp("materials")
    settings.STORAGES = settings.STORAGES | {
        "materials": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}}
    }
    return location


@pytest.fixture(autouse=True)
def _no_rush(settings):
    # Most tests fill a small talk within a second, which HOLD_DEMAND's default calls a rush
    # (seats then held until confirmed by email). Tests of that rule switch it back on.
    settings.HOLD_DEMAND = "off"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # Every test starts with empty rate-limit counters: a key prefix of its own.
    settings.CACHES = {
        alias: config | {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for alias, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _page_cache_starts_empty(settings, tmp_path_factory):
    # Each test starts in a process that knows no page and no token. Changes
    # reach it through the stamp file, the one-host channel: its test database
    # and transaction are none of another process's business. (The Redis and
    # PostgreSQL channels have tests of their own, and the servers' tests use them.)
    # The file is this run's own: another run's changes would only cost a read, but a count of them is pinned.
    from seminar_site import pagecache

    settings.PAGE_CACHE_CHANNEL = "file"
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
    pagecache.reset()
    yield
    pagecache.reset()


@pytest.fixture(autouse=True)
def _page_cache_sees_test_changes(monkeypatch):
    # A test runs in a transaction that never commits, so what the page cache
    # does once a change commits (the new tokens, or telling the other
    # processes of the ones written in the transaction) would never come: here
    # it comes at once, as it would at the commit of a real request, and the
    # next page is current. (Tests with transaction=True commit for real and get both.)
    from django.db import DEFAULT_DB_ALIAS
    from django.test import TestCase

    from seminar_site import pagecache

    changed = pagecache.changed

    def changed_now(*tags, using=None):
        with TestCase.captureOnCommitCallbacks(using=using or DEFAULT_DB_ALIAS, execute=True):
            changed(*tags, using=using)

    monkeypatch.setattr(pagecache, "changed", changed_now)


@pytest.fixture
def series(db):
    return Series.objects.create(
        name="IFML Seminar",
        slug="ifml-seminar",
        organizer_name="IFML Organizers",
        organizer_email="ifml-seminar@example.edu",
    )


@pytest.fixture
def make_team_member(db, django_user_model):
    """A staff user on the team of `series` in `role` (organizer unless told), as set in the admin."""

    def make(series, username, *, role=SeriesMember.Role.ORGANIZER):
        user = django_user_model.objects.filter(username=username).first()
        if user is None:
            user = django_user_model.objects.create_user(username, password=f"pw-{username}-1")
        SeriesMember.objects.create(series=series, user=user, role=role)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def venue(db):
    return Venue.objects.create(room="GDC 6.302", building="Gates Dell Complex", default_capacity=40)


@pytest.fixture
def speaker(db):
    return Speaker.objects.create(
        name="Atlas Wang",
        affiliation="The University of Texas at Austin",
        position="Associate Professor",
        bio="Atlas Wang is an associate professor at UT Austin.",
    )


@pytest.fixture
def make_event(series, venue, speaker):
    """Build a published talk; keyword arguments override any field."""

    def make(**fields):
        # In two weeks, in the afternoon as talks are: whatever the hour the tests run, it ends on the day it
        # starts (a talk past midnight is written with both dates, and a term's rows refuse it).
        afternoon = timezone.localtime(timezone.now() + datetime.timedelta(days=14)).replace(
            hour=15, minute=30, second=0, microsecond=0
        )
        start = fields.pop("start", afternoon)
        defaults = {
            "series": series,
            "venue": venue,
            "title": "Generating a Video: Reflecting on a Two-Year Odyssey",
            "slug": f"talk-{Event.objects.count() + 1}",
            "abstract": "In this talk, I will recount the developmental trajectory of video generation models.",
            "start": start,
            "end": fields.pop("end", start + datetime.timedelta(hours=1)),
            "status": Event.Status.PUBLISHED,
        }
        event = Event.objects.create(**(defaults | fields))
        event.speakers.add(speaker)
        return event

    return make


@pytest.fixture
def event(make_event):
    return make_event()


@pytest.fixture
def ask(db):
    """Add a question to a talk's form: `ask(event, "Lunch?", kind="yes_no", choices=[...], required=True)`."""

    def ask(event, label, *, kind=Question.Kind.SHORT_TEXT, choices=(), **fields):
        position = fields.pop("position", event.questions.count() + 1)
        return Question.objects.create(
            event=event, label=label, kind=kind, choices="\n".join(choices), position=position, **fields
        )

    return ask


def pytest_configure(config):
    from django.conf import settings

    if (
        os.environ.get("REQUIRE_POSTGRES")
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        raise pytest.UsageError("REQUIRE_POSTGRES is set but DATABASE_URL does not point to PostgreSQL.")


@pytest.fixture
def require_postgres(settings):
    """Skip on SQLite (with the reason printed by -ra); fail instead when CI demands PostgreSQL."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("This test needs PostgreSQL and REQUIRE_POSTGRES is set.")
        pytest.skip("needs PostgreSQL for real concurrent connections (set DATABASE_URL=postgres://...)")


@pytest.fixture(scope="session")
def run_once():
    """For slow tests that do not depend on the database engine: CI runs them in its SQLite run only
    (its PostgreSQL run sets REQUIRE_POSTGRES)."""
    if os.environ.get("REQUIRE_POSTGRES"):
        pytest.skip("runs once, in the SQLite run (it does not depend on the database)")


# REQUIRE_BROWSER (set by CI): a run in which no browser test passed fails,
# so a machine without Chromium cannot turn the browser suite into skips.
_browser_tests_passed = 0


def pytest_runtest_logreport(report):
    global _browser_tests_passed
    if report.when == "call" and report.passed and "browser" in report.keywords:
        _browser_tests_passed += 1


def pytest_sessionfinish(session, exitstatus):
    # The browser tests run once, in the SQLite run (`run_once`): the PostgreSQL run is not asked for them.
    once_elsewhere = bool(os.environ.get("REQUIRE_POSTGRES"))
    if os.environ.get("REQUIRE_BROWSER") and not once_elsewhere and not _browser_tests_passed and exitstatus == 0:
        session.config.get_terminal_writer().line(
            "\nREQUIRE_BROWSER is set but no browser test passed (were they skipped or deselected?).", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on a free local port (aiosmtpd), and Django's SMTP backend pointed at it.

    Yields the list of received (envelope sender, envelope recipients, DATA bytes).
    """
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 30},
        }
    }
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def sign_up():
    """Register one more person for a talk through the service; keyword arguments override."""

    def sign_up(event, **fields):
        n = next(_numbers)
        defaults = {"name": f"Person {n}", "email": f"person{n}@example.edu"}
        return services.register(event=event, **(defaults | fields)).registration

    return sign_up


# Real gunicorn hosts (tests/servers.py) on the test database.

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """collectstatic's output, which production mode serves, made once for every host of the run."""
    from tests.servers import collect_static

    directory = tmp_path_factory.mktemp("static")
    collect_static(directory)
    return directory


@pytest.fixture
def shared_redis():
    """CACHE_URL of the Redis that hosts share (TEST_REDIS_URL), or a skip (a failure under REQUIRE_REDIS)."""
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"REQUIRE_REDIS is set but Redis at {TEST_REDIS_URL} does not answer: {error}")
        pytest.skip(f"needs Redis at {TEST_REDIS_URL} (set TEST_REDIS_URL): {error}")
    return TEST_REDIS_URL


def _test_database_url() -> str:
    """The test database, as hosts reach it (their tests are transactional: the data is committed)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_hosts(require_postgres, static_root, tmp_path):
    """`two_hosts(**environment)` starts hosts a and b, sharing the database and CACHE_URL (if given).

    Both run in production mode behind one proxy (TRUSTED_PROXY_COUNT=1), with
    one secret key and a key space of their own in the cache; both stop when the test ends.
    """
    from django.db import connection

    from tests.servers import production_environment, serve

    with contextlib.ExitStack() as running:

        def start(**environment):
            base = production_environment(
                DATABASE_URL=_test_database_url(),
                STATIC_ROOT=str(static_root),
                TRUSTED_PROXY_COUNT="1",
                # One key space per start: two runs on one Redis never see each other's counters or pages.
                CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
            )
            return [
                running.enter_context(serve(base | environment, tmp_path / f"host-{name}.log")) for name in ("a", "b")
            ]

        yield start
    connection.close()


@pytest.fixture
def one_host(require_postgres, static_root, tmp_path):
    """`one_host(**environment)` starts one gunicorn host on the test database (production mode), stopped
    when the test ends; DATABASE_URL in `environment` points it elsewhere (a proxy, a restored copy)."""
    from django.db import connection

    from tests.servers import production_environment, serve

    with contextlib.ExitStack() as running:

        def start(name="host", **environment):
            base = production_environment(
                DATABASE_URL=_test_database_url(),
                STATIC_ROOT=str(static_root),
                CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
            )
            return running.enter_context(serve(base | environment, tmp_path / f"{name}.log"))

        yield start
    connection.close()

"""Requests failed by a database out of reach: 503 with Retry-After and the site's page, logged once per outage."""

import logging
import re
import sqlite3

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.db.backends.signals import connection_created
from django.test import Client
from prometheus_client import REGISTRY

from seminar_site import outage

from .failing_urls import unreachable_database_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.seminar_site.failing_urls")]


@pytest.fixture(autouse=True)
def no_outage_yet(monkeypatch):
    monkeypatch.setattr(outage, "_outage", outage._Outage())


@pytest.fixture
def visitor():
    # A browser gets the error page; the test client would re-raise the exception instead.
    return Client(raise_request_exception=False)


def django_error(cause: Exception, wrapper=OperationalError) -> DatabaseError:
    """`cause` as Django raises it: its own class of the same name, caused by the driver's."""
    error = wrapper(*cause.args)
    error.__cause__ = cause
    return error


def refused_connection_error() -> psycopg.OperationalError:
    from tests.servers import free_port

    try:
        psycopg.connect(host="127.0.0.1", port=free_port(), user="postgres", connect_timeout=5)
    except psycopg.OperationalError as error:
        return error
    raise AssertionError("a closed port accepted a connection")


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (lambda: django_error(refused_connection_error()), True),
        (lambda: django_error(psycopg.OperationalError("consuming input failed: server closed the connection")), True),
        (
            lambda: django_error(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
            True,
        ),
        (lambda: django_error(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
        (lambda: django_error(psycopg.errors.ConnectionFailure("connection failure")), True),
        (lambda: django_error(psycopg.InterfaceError("the connection is closed"), InterfaceError), True),
        (lambda: django_error(sqlite3.OperationalError("unable to open database file")), True),
        (lambda: django_error(psycopg.errors.DeadlockDetected("deadlock detected")), False),
        (lambda: django_error(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), False),
        (lambda: django_error(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError), False),
        (lambda: django_error(sqlite3.OperationalError("database is locked")), False),
        (lambda: OperationalError("no cause"), False),
        (lambda: ZeroDivisionError("a bug"), False),
        (lambda: None, False),
    ],
    ids=[
        "refused",
        "cut",
        "admin-shutdown",
        "starting-up",
        "class-08",
        "closed",
        "sqlite-file",
        "deadlock",
        "statement-timeout",
        "constraint",
        "sqlite-locked",
        "no-cause",
        "bug",
        "none",
    ],
)
def test_which_errors_mean_the_database_is_out_of_reach(error, unavailable):
    assert outage.database_unavailable(error()) is unavailable


def test_a_request_the_database_fails_gets_503_with_retry_after_and_the_sites_page(visitor):
    response = visitor.get("/test/database-away/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(outage.RETRY_AFTER)
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    text = response.content.decode()
    assert 'class="site-header"' in text
    assert re.search(r"<h1>\s*Back in a moment\s*</h1>", text)
    assert "registering twice" not in text  # says what happens, not a slogan
    assert "you will not get a second seat" in text
    assert "Traceback" not in text and "OperationalError" not in text


def test_the_503_page_speaks_the_visitors_language(visitor):
    response = visitor.get("/test/database-away/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 503
    assert '<html lang="es">' in response.content.decode()
    assert "Volvemos enseguida" in response.content.decode()


def test_an_outage_is_logged_once_and_its_end_once(visitor, caplog):
    with caplog.at_level(logging.INFO):
        statuses = [visitor.get("/test/database-away/").status_code for _ in range(5)]
        connection_created.send(sender=type(connection), connection=connection)
        connection_created.send(sender=type(connection), connection=connection)

    assert statuses == [503] * 5
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("The database cannot be reached (OperationalError: connection failed")
    assert caplog.records[0].levelname == "ERROR"
    assert caplog.records[0].exc_info is None
    assert re.fullmatch(
        r"The database answers again after \d+\.\d s \(requests and checks failed meanwhile: 5\)", lines[1]
    )


def test_the_next_outage_is_logged_again(visitor, caplog):
    visitor.get("/test/database-away/")
    connection_created.send(sender=type(connection), connection=connection)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        visitor.get("/test/database-away/")

    assert [record.getMessage().split(" (")[0] for record in caplog.records] == ["The database cannot be reached"]


def test_requests_answered_503_are_counted(visitor):
    def counted():
        return REGISTRY.get_sample_value("seminar_database_unavailable_total")

    before = counted()
    visitor.get("/test/database-away/")
    visitor.get("/test/database-away/")

    assert counted() - before == 2


def test_a_bug_still_gets_the_500_page_and_its_traceback_in_the_log(visitor, caplog):
    with caplog.at_level(logging.ERROR):
        response = visitor.get("/test/bug/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert re.search(r"<h1>\s*Something went wrong\s*</h1>", response.content.decode())
    [record] = caplog.records
    assert record.getMessage() == "Internal Server Error: /test/bug/"
    assert record.exc_info[0] is ZeroDivisionError


def test_a_page_cache_in_the_unreachable_database_logs_nothing_of_its_own(client, event, monkeypatch, caplog):
    from seminar_site import pagecache

    class Unreachable:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise unreachable_database_error()

            return fail

    monkeypatch.setattr(pagecache, "cache", Unreachable())
    with caplog.at_level(logging.WARNING):
        response = client.get(event.get_absolute_url())

    # The page's own queries would meet the outage next (and log it once); here they work.
    assert response.status_code == 200
    assert not caplog.records


def test_rate_limits_in_the_unreachable_database_log_nothing_of_their_own(client, event, monkeypatch, caplog):
    from seminar_site import limits

    def get_usage(*args, **kwargs):
        raise unreachable_database_error()

    monkeypatch.setattr(limits, "get_usage", get_usage)
    with caplog.at_level(logging.WARNING):
        response = client.post(
            f"/events/{event.slug}/register/", {"name": "Ana", "email": "ana@example.edu", "consent": "on"}
        )

    assert response.status_code == 302
    assert not caplog.records

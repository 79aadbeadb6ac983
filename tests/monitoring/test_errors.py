"""Error reports to Sentry: sent through a fake transport, and nothing personal in them."""

import logging

import pytest
import sentry_sdk
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client, RequestFactory
from sentry_sdk.transport import Transport

from monitoring import errors
from seminar_site import outage

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.monitoring.failing_urls")]

EMAIL = "ana.lopez+talks@cs.utexas.edu"


class CapturingTransport(Transport):
    """Keeps each envelope the SDK would send to Sentry, and the bytes it would send."""

    def __init__(self):
        super().__init__()
        self.envelopes = []
        self.sent: list[bytes] = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)
        self.sent.append(envelope.serialize())

    def events(self) -> list[dict]:
        return [item.payload.json for envelope in self.envelopes for item in envelope.items if item.type == "event"]


def served_by_wsgi(environ) -> str:
    """Pass `environ` through Django's WSGI handler, as gunicorn does (Sentry reads the request there);
    the test's database connection stays open, as the test client keeps it. Returns the status line."""
    status = []
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(environ, lambda line, headers, exc_info=None: status.append(line)))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return status[0]


@pytest.fixture
def sentry(settings, monkeypatch):
    monkeypatch.setattr(outage, "_outage", outage._Outage())
    settings.SENTRY_DSN = "https://0123456789abcdef@sentry.example.edu/42"
    transport = CapturingTransport()
    assert errors.start_reporting(transport=transport)
    try:
        yield transport
    finally:
        client = sentry_sdk.get_client()
        client.flush()
        client.close()
        sentry_sdk.get_global_scope().set_client(None)


def test_without_a_dsn_nothing_is_reported(settings):
    settings.SENTRY_DSN = ""
    assert errors.start_reporting() is False
    assert not sentry_sdk.get_client().is_active()


def test_an_error_report_holds_no_address_no_token_and_no_form(sentry, sign_up, event):
    registration = sign_up(event, email=EMAIL)
    path = registration.get_absolute_url()  # /r/<signed token>/
    token = path.strip("/").split("/")[-1]
    request = RequestFactory().post(
        f"{path}explode/?email={EMAIL.replace('@', '%40')}&from={path}&q=Ana+L%C3%B3pez",
        {"email": EMAIL, "name": "Ana López"},
        HTTP_REFERER=f"https://seminars.example.edu{path}?q=Ana+L%C3%B3pez",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )

    status = served_by_wsgi(request.environ)
    logging.getLogger("registrations.views").error("Could not send %s its link %s", EMAIL, path)
    sentry_sdk.get_client().flush()

    assert status.startswith("500")
    events = sentry.events()
    assert len(events) == 2  # the exception, the error logged
    sent = b"".join(sentry.sent).decode()
    for secret in (EMAIL, "ana.lopez", "utexas", token, token.split(":")[0], "Ana L", "Ana+L"):
        assert secret not in sent, secret
    exception_event = next(event for event in events if "exception" in event)
    [exception] = exception_event["exception"]["values"]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "No registration of [email] matches [token]"
    request = exception_event["request"]
    assert request["url"].endswith("/r/[token]/explode/")
    # Each parameter's value, whatever it is: a search holds the name typed into it.
    assert request["query_string"] == "email=…&from=…&q=…"
    assert request["headers"]["Referer"] == "https://seminars.example.edu/r/[token]/?q=…"
    # What people typed, cookies and variables never leave.
    assert "data" not in request and "cookies" not in request
    assert "203.0.113.7" not in sent
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    crumbs = [crumb.get("message") for crumb in exception_event["breadcrumbs"]["values"]]
    assert "Looking up the registration of [email]" in crumbs
    logged = next(event for event in events if "exception" not in event)
    assert logged["logentry"]["formatted"] == "Could not send [email] its link /r/[token]/"


def test_a_database_outage_is_reported_once_not_per_request(sentry):
    browser = Client(raise_request_exception=False)

    statuses = [browser.get("/test/database-away/").status_code for _ in range(3)]
    sentry_sdk.get_client().flush()

    assert statuses == [503] * 3
    [event] = sentry.events()
    assert "exception" not in event
    assert event["level"] == "error"
    assert event["logentry"]["formatted"].startswith("The database cannot be reached")


def test_a_traced_request_sends_neither_the_page_s_context_nor_its_search(settings, sentry, sign_up, event):
    # SENTRY_TRACES_SAMPLE_RATE above 0: each render's span would carry the template's context.
    sentry_sdk.get_client().options["traces_sample_rate"] = 1.0
    registration = sign_up(event, email=EMAIL, name="Ana López")
    registrant_page = RequestFactory().get(registration.get_absolute_url())
    search = RequestFactory().get("/events/past/?q=Ana+L%C3%B3pez")

    statuses = [served_by_wsgi(request.environ) for request in (registrant_page, search)]
    sentry_sdk.get_client().flush()

    assert statuses == ["200 OK", "200 OK"]
    transactions = [
        item.payload.json for envelope in sentry.envelopes for item in envelope.items if item.type == "transaction"
    ]
    assert {transaction["transaction"] for transaction in transactions} == {"/r/[token]/", "/events/past/"}
    sent = b"".join(sentry.sent).decode()
    for secret in ("Ana L", "Ana+L", "López", "L\\u00f3pez", "ana.lopez"):
        assert secret not in sent, secret

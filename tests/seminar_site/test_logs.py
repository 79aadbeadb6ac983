import io
import logging
import re

import pytest
from django.urls import reverse

from registrations import services
from seminar_site.logs import OneLineFormatter, RequestIdFilter, redact

pytestmark = pytest.mark.django_db


def test_redact_masks_addresses_and_tokens():
    token = "gY4w2s0c9hKQ0xV1bT3nq8eJm2LpZr7A:Vg3kq9XoR8l1c2mW5nB0pYzQhT4uJ6aKfE7dS1xC2vB"
    line = f'"GET /r/{token}/cancel/ HTTP/1.1" 200 from ana.lopez+talks@cs.utexas.edu, value {token}'

    cleaned = redact(line)

    assert cleaned == '"GET /r/[token]/cancel/ HTTP/1.1" 200 from [email], value [token]'


def test_redact_leaves_times_and_paths_alone():
    line = "2026-12-01 13:45:01,123 GET /events/generating-a-video/register/ took 12:30"
    assert redact(line) == line


def log_line(logger_name, message, *args, exc_info=None):
    record = logging.getLogger(logger_name).makeRecord(logger_name, logging.ERROR, __file__, 1, message, args, exc_info)
    RequestIdFilter().filter(record)
    return OneLineFormatter().format(record)


def test_a_traceback_stays_on_one_line_with_nothing_personal():
    try:
        raise ValueError("cannot deliver to ana@ut.edu\nsecond line")
    except ValueError:
        import sys

        line = log_line("registrations", "Failed for %s", "ana@ut.edu", exc_info=sys.exc_info())

    assert "\n" not in line
    assert "ana@ut.edu" not in line
    assert "Traceback" in line
    assert re.search(r" ERROR registrations \[[\w-]+\] Failed for \[email\] ⏎ Traceback", line), line


@pytest.fixture
def console():
    """What the site's console handler (settings.LOGGING) writes, read back."""
    handler = next(handler for handler in logging.getLogger("django").handlers if handler.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_every_line_of_a_request_names_its_id_and_no_address_or_token(client, event, console):
    registration = services.register(event=event, name="Ana", email="ana@ut.edu").registration

    response = client.get(registration.get_absolute_url() + "cancel/", HTTP_X_REQUEST_ID="lb-4f2a9c7e")
    missing = client.get("/r/" + registration.token + "x/")
    output = console.getvalue()

    assert response["X-Request-ID"] == "lb-4f2a9c7e"
    assert missing.status_code == 404
    line = next(line for line in output.splitlines() if "Not Found" in line)
    assert f"[{missing['X-Request-ID']}]" in line
    assert registration.token not in output
    assert registration.key not in output
    assert "ana@ut.edu" not in output


def test_a_request_id_that_is_not_plain_is_replaced(client):
    response = client.get(reverse("events:event_list"), HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")
    assert response["X-Request-ID"] != "x\r\nSet-Cookie: a=b"
    assert len(response["X-Request-ID"]) == 32


def test_the_development_server_does_not_log_health_checks(console):
    server = logging.getLogger("django.server")
    server.info('"%s" %s %s', "GET /healthz HTTP/1.1", 200, 3)
    server.info('"%s" %s %s', "GET / HTTP/1.1", 200, 3206)

    assert "/healthz" not in console.getvalue()
    assert '"GET / HTTP/1.1" 200 3206' in console.getvalue()


def test_redact_masks_an_address_written_into_a_query_string():
    line = '"GET /admin/registrations/registration/?q=ana.lopez%40cs.utexas.edu HTTP/1.1" 200'
    assert redact(line) == '"GET /admin/registrations/registration/?q=[email] HTTP/1.1" 200'


def test_redact_masks_a_self_service_path_and_a_token_written_into_a_query_string():
    token = "gY4w2s0c9hKQ0xV1bT3nq8eJm2LpZr7A:Vg3kq9XoR8l1c2mW5nB0pYzQhT4uJ6aKfE7dS1xC2vB"
    encoded = token.replace(":", "%3A")
    line = f'"GET /language/?next=%2Fr%2F{encoded}%2Fcancel%2F&token={encoded}&page=2 HTTP/1.1" 302'

    assert redact(line) == '"GET /language/?next=%2Fr%2F[token]%2Fcancel%2F&token=[token]&page=2 HTTP/1.1" 302'


def test_redact_masks_a_door_screen_key_in_its_path_and_in_a_query_string():
    key = "q3V8xN2bLk0sZ7wTr4Yp1mHc9dFj6gEa"  # secrets.token_urlsafe(24): no colon, unlike a signed token
    line = f'"GET /screen/{key}/qr/talk.svg HTTP/1.1" 200 "GET /language/?next=%2Fscreen%2F{key}%2Fnow.json HTTP/1.1"'

    assert redact(line) == (
        '"GET /screen/[token]/qr/talk.svg HTTP/1.1" 200 "GET /language/?next=%2Fscreen%2F[token]%2Fnow.json HTTP/1.1"'
    )
    assert redact("GET /staff/screens/series/3/") == "GET /staff/screens/series/3/"


def test_a_door_screen_key_is_in_no_line_of_its_requests(client, series, console):
    from doorscreen.services import rotate_screen_link

    old = rotate_screen_link(series=series).key
    current = rotate_screen_link(series=series).key

    assert client.get(reverse("doorscreen:screen", args=[current])).status_code == 200
    # The replaced link answers 404, which Django logs with its path.
    assert client.get(reverse("doorscreen:json", args=[old])).status_code == 404
    output = console.getvalue()

    assert "Not Found: /screen/[token]/now.json" in output
    assert old not in output and current not in output


def test_a_line_logged_before_a_request_has_its_id_does_not_name_the_previous_request(client, console, database_away):
    client.get(reverse("events:event_list"), HTTP_X_REQUEST_ID="lb-previous-0001")

    # The load balancer's probe is answered before the request id is given: its line names no request.
    assert client.get("/healthz").status_code == 503

    line = next(line for line in console.getvalue().splitlines() if "cannot be reached" in line)
    assert "lb-previous-0001" not in line
    assert " [-] " in line


def access_line(raw_uri: str, capsys, **headers) -> str:
    """The line gunicorn's access log (AccessLogger, with gunicorn.conf.py's format) writes for a GET of `raw_uri`."""
    import datetime
    import runpy
    from types import SimpleNamespace

    from django.conf import settings
    from gunicorn.config import Config

    from seminar_site.logs import AccessLogger

    config = Config()
    for name in ("accesslog", "errorlog", "access_log_format"):
        config.set(name, runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))[name])
    logger = AccessLogger(config)
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    } | {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[("X-Request-ID", "lb-4f2a9c7e")])
    capsys.readouterr()
    logger.access(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(milliseconds=12))
    return capsys.readouterr().out.strip()


def test_the_access_log_keeps_what_people_typed_into_a_search_out(capsys):
    # The door's search finds a registrant by name; the admin's too.
    line = access_line("/staff/checkin/talks/3/?q=Ana+L%C3%B3pez&page=2&break-glass", capsys)

    assert '"GET /staff/checkin/talks/3/?q=…&page=…&break-glass HTTP/1.1" 200 1234 12ms [lb-4f2a9c7e]' in line
    assert "Ana" not in line and "L%C3%B3pez" not in line


def test_the_access_log_keeps_a_door_screen_key_out(capsys):
    line = access_line("/screen/q3V8xN2bLk0sZ7wTr4Yp1mHc9dFj6gEa/now.json", capsys)

    assert '"GET /screen/[token]/now.json HTTP/1.1" 200' in line
    assert "q3V8xN2bLk0sZ7wTr4Yp1mHc9dFj6gEa" not in line

"""Scraping gunicorn as Prometheus does: the counts of both workers, summed; nobody else gets them."""

import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from registrations.models import Registration
from tests.servers import BASE_DIR, REQUEST_TIMEOUT, Visitor

from .conftest import TOKEN, Metrics

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROXY = {"X-Forwarded-Proto": "https"}


def leave_counts_of_an_earlier_run(directory):
    """What a gunicorn that ran before with the same directory would leave there: 1000 counted requests."""
    script = (
        "from prometheus_client import Counter\n"
        "Counter('seminar_http_requests_total', '', ['view', 'method', 'status'])"
        ".labels('events:event_detail', 'GET', '200').inc(1000)\n"
    )
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": ""}
    subprocess.run([sys.executable, "-c", script], env=environment, check=True, cwd=BASE_DIR, timeout=60)  # noqa: S603 - fixed argv
    assert list(directory.glob("counter_*.db"))


def hold_a_worker(host) -> socket.socket:
    """A request for the past talks whose headers never end: the sync worker that takes it
    (the first in the queue) waits on it, so every other request goes to the other worker."""
    connection = socket.create_connection(("127.0.0.1", int(host.url.rsplit(":", 1)[1])))
    connection.sendall(b"GET /events/past/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n")
    return connection


def release(connection: socket.socket) -> bytes:
    connection.sendall(b"\r\n")
    connection.settimeout(REQUEST_TIMEOUT)
    response = b""
    while chunk := connection.recv(65536):
        response += chunk
    connection.close()
    return response


def test_a_scrape_sums_the_counts_of_both_workers(one_host, make_event, tmp_path):
    event = make_event(capacity=10)
    directory = tmp_path / "metrics"
    directory.mkdir()
    leave_counts_of_an_earlier_run(directory)
    host = one_host(
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",  # the sync worker, production's default
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        METRICS_TOKEN=TOKEN,
        METRICS_ALLOWED_NETWORKS="127.0.0.0/8",
        TRUSTED_PROXY_COUNT="1",
        REGISTRATION_RATE_LIMIT="2/h",
    )

    held = hold_a_worker(host)
    visitor = Visitor(host, event)  # the talk page, as a new visitor: rendered and stored
    for _ in range(6):
        assert requests.get(f"{host.url}{event.get_absolute_url()}", headers=PROXY, timeout=60).status_code == 200
    statuses = [visitor.register(host, event, n, client_ip="198.51.100.7").status_code for n in range(4)]
    assert requests.get(f"{host.url}/no-such-page/", headers=PROXY, timeout=60).status_code == 404
    assert release(held).startswith(b"HTTP/1.1 200 ")
    response = requests.get(f"{host.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    assert statuses == [302, 302, 429, 429]
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    metrics = Metrics(response.text)
    # One worker answered the past talks, the other everything else: the scrape adds both up.
    requests_by = {
        ("events:event_detail", "GET", "200"): 7,
        ("events:past_event_list", "GET", "200"): 1,
        ("registrations:register", "POST", "302"): 2,
        ("registrations:register", "POST", "429"): 2,
        ("unmatched", "GET", "404"): 1,
    }
    for (view, method, status), count in requests_by.items():
        assert metrics.value("seminar_http_requests_total", view=view, method=method, status=status) == count
    assert sum(v for (name, _), v in metrics.samples.items() if name == "seminar_http_requests_total") == 13
    assert metrics.value("seminar_http_request_duration_seconds_count", view="events:event_detail") == 7
    assert metrics.value("seminar_page_cache_requests_total", page="talk", result="miss") == 1
    assert metrics.value("seminar_page_cache_requests_total", page="talk", result="hit") == 6
    assert metrics.value("seminar_page_cache_requests_total", page="events:past", result="miss") == 1
    assert metrics.value("seminar_rate_limit_refusals_total", limit="register") == 2
    assert metrics.value("seminar_database_up") == 1
    assert metrics.value("seminar_database_unavailable_total") == 0
    # From the database, at scrape time.
    assert metrics.labels("seminar_registrations", "status") == set(Registration.Status.values)
    assert metrics.value("seminar_registrations", status="confirmed") == 2
    assert metrics.value("seminar_outbox_unsent_messages") == 2  # no email worker runs here
    assert 0 <= metrics.value("seminar_outbox_oldest_unsent_age_seconds") < 600
    # The two messages wake the email worker: one task, or two when each web worker wrote its own
    # (a process writes one at once and one for the end of that second: outbox/delivery.py).
    assert metrics.value("seminar_task_queue_ready_tasks", queue="default") in (1, 2)
    # Each worker wrote its own counts; the earlier run's were removed when the master started.
    written_by = {path.name.removeprefix("counter_").removesuffix(".db") for path in directory.glob("counter_*.db")}
    assert written_by == set(re.findall(r"Booting worker with pid: (\d+)", host.log()))
    assert len(written_by) == 2


def test_without_the_token_or_from_another_network_the_metrics_do_not_exist(one_host):
    host = one_host(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_NETWORKS="127.0.0.0/8", TRUSTED_PROXY_COUNT="1")
    url = f"{host.url}/metrics"
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    refused = [
        requests.get(url, headers=PROXY, timeout=60),
        requests.get(url, headers=PROXY | {"Authorization": "Bearer not-the-token"}, timeout=60),
        # Through the proxy, from another network, with the right token.
        requests.get(url, headers=PROXY | bearer | {"X-Forwarded-For": "203.0.113.5"}, timeout=60),
    ]
    unknown = requests.get(f"{host.url}/no-such-page/", headers=PROXY, timeout=60)
    allowed = requests.get(url, headers=bearer | {"Host": "10.0.0.11:8000"}, timeout=60)
    time.sleep(1)  # let the access lines reach the log
    log = host.log()

    assert [response.status_code for response in refused] == [404, 404, 404]
    for response in refused:
        assert "seminar_" not in response.text
        assert response.text.replace("/metrics", "/no-such-page/") == unknown.text
    # Prometheus scrapes each host by its address, over plain HTTP.
    assert allowed.status_code == 200
    assert "seminar_http_requests_total" in allowed.text
    # Refusals are logged like any unknown page; a scrape is not logged at all.
    assert len(re.findall(r'"GET /metrics HTTP/1.1" 404 ', log)) == 3
    assert '"GET /metrics HTTP/1.1" 200 ' not in log

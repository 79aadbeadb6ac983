"""The database out of reach under a running gunicorn: 503 with Retry-After, then 200 when it returns, nothing lost.

The outage is a TCP proxy of the test's own between gunicorn and PostgreSQL,
cut and restored; the PostgreSQL server others use is never touched.
"""

import re
import time

import pytest
import requests
from django.conf import settings

from outbox.models import OutgoingMail
from registrations.models import Registration
from seminar_site.outage import RETRY_AFTER
from tests.monitoring.conftest import TOKEN, Metrics
from tests.servers import TcpProxy, Visitor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROXY = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def database_proxy(require_postgres):
    database = settings.DATABASES["default"]
    with TcpProxy(int(database["PORT"] or 5432), database["HOST"] or "127.0.0.1") as proxy:
        yield proxy, f"postgres://{database['USER']}@127.0.0.1:{proxy.port}/{database['NAME']}"


def test_requests_the_outage_fails_get_503_and_the_site_comes_back_with_nothing_lost(
    one_host, database_proxy, make_event
):
    proxy, url = database_proxy
    event = make_event(capacity=5)
    host = one_host(
        DATABASE_URL=url,
        CONN_MAX_AGE="60",  # production's: kept connections break in the outage too
        METRICS_TOKEN=TOKEN,
        REGISTRATION_RATE_LIMIT="off",
        EMAIL_ADDRESS_RATE_LIMIT="off",
    )
    talk = f"{host.url}{event.get_absolute_url()}"
    visitor = Visitor(host, event)
    assert visitor.register(host, event, 1, client_ip="198.51.100.1").status_code == 302

    proxy.cut()
    during = [requests.get(talk, headers=PROXY, timeout=60) for _ in range(6)]
    during.append(visitor.register(host, event, 2, client_ip="198.51.100.2"))
    during.append(requests.get(f"{host.url}/", headers=PROXY, timeout=60))
    health = requests.get(f"{host.url}/healthz", timeout=60)
    scrape = requests.get(f"{host.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    proxy.restore()
    after = requests.get(talk, headers=PROXY, timeout=60)
    registered = visitor.register(host, event, 2, client_ip="198.51.100.2")
    healthy = requests.get(f"{host.url}/healthz", timeout=60)
    time.sleep(1)  # let the last lines reach the log
    log = host.log()

    assert [response.status_code for response in during] == [503] * 8
    for response in during:
        assert response.headers["Retry-After"] == str(RETRY_AFTER)
        assert response.headers["Cache-Control"] == "no-store"
        assert 'class="site-header"' in response.text
        assert re.search(r"<h1>\s*Back in a moment\s*</h1>", response.text)
    assert health.status_code == 503
    # The metrics still answer, from the workers' counts: the database is down, 8 requests were refused.
    assert scrape.status_code == 200
    metrics = Metrics(scrape.text)
    assert metrics.value("seminar_database_up") == 0
    assert metrics.value("seminar_database_unavailable_total") == 8
    assert metrics.value("seminar_http_requests_total", view="events:event_detail", method="GET", status="503") == 6
    assert (after.status_code, registered.status_code, healthy.status_code) == (200, 302, 200)

    # Nothing lost, nothing doubled: both people registered once, each with one confirmation queued.
    registrations = Registration.objects.filter(event=event)
    assert sorted(registrations.values_list("email", "status")) == [
        ("person1@example.edu", "confirmed"),
        ("person2@example.edu", "confirmed"),
    ]
    mail = OutgoingMail.objects.about(registrations)
    assert sorted(mail.values_list("about_id", "status")) == sorted(
        (pk, "pending") for pk in registrations.values_list("pk", flat=True)
    )
    # Logged once per worker process that met the outage, and once when it was over; no traceback.
    reached = log.count("The database cannot be reached")
    assert 1 <= reached <= 2, log[-5000:]
    assert 1 <= log.count("The database answers again after") <= reached
    assert "Traceback" not in log
    assert "Internal Server Error" not in log
    assert len(re.findall(r'" 503 ', log)) == 8

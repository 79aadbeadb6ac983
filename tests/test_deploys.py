"""Deploys drop nothing: gunicorn reloaded (SIGHUP) or replaced by a new master (SIGUSR2, then SIGTERM
to the old one) while clients keep sending requests; every request answered 2xx or 3xx."""

import itertools
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from registrations.models import Registration
from tests.monitoring.conftest import TOKEN, Metrics
from tests.servers import REQUEST_TIMEOUT, Visitor, proxy_headers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 4
# Bounds for the whole stream, whatever the machine: it stops at the first one reached. The count is
# far above what a test waits for (60 more after a reload, which on a fast machine can come after
# more than 500): a stream that stopped first would fail the wait for no fault of the server.
MOST_REQUESTS = 3000
DEADLINE = 180


class Traffic:
    """CLIENTS people using the site at once, each on a kept-alive connection of their own: the talk
    page, the list of talks, and now and then a registration. Each request's status is recorded, or
    the error that took its place."""

    def __init__(self, host, event):
        self.host, self.event = host, event
        self.visitor = Visitor(host, event)
        self.results: list[tuple[str, int | str]] = []
        self.people = itertools.count(1)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def __enter__(self):
        self.deadline = time.monotonic() + DEADLINE
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)

    def count(self) -> int:
        with self.lock:
            return len(self.results)

    def wait_for(self, count: int) -> None:
        while self.count() < count and time.monotonic() < self.deadline:
            time.sleep(0.05)
        assert self.count() >= count, f"only {self.count()} requests answered before the deadline"

    def _client(self):
        session = requests.Session()
        talk = f"{self.host.url}{self.event.get_absolute_url()}"
        for n in itertools.count():
            if self.stopping.is_set() or time.monotonic() > self.deadline or self.count() >= MOST_REQUESTS:
                break
            try:
                if n % 20 == 19:
                    person = next(self.people)
                    response = session.post(
                        f"{self.host.url}/events/{self.event.slug}/register/",
                        data={
                            "csrfmiddlewaretoken": self.visitor.token,
                            "name": f"Person {person}",
                            "email": f"person{person}@example.edu",
                            "consent": "on",
                            "website": "",
                        },
                        headers=proxy_headers(self.host, self.visitor.cookies),
                        allow_redirects=False,
                        timeout=REQUEST_TIMEOUT,
                    )
                    kind = "register"
                else:
                    url = talk if n % 2 else f"{self.host.url}/"
                    response = session.get(url, headers={"X-Forwarded-Proto": "https"}, timeout=REQUEST_TIMEOUT)
                    kind = "page"
                outcome = response.status_code
            except requests.RequestException as error:
                kind, outcome = "error", f"{type(error).__name__}: {error}"
            with self.lock:
                self.results.append((kind, outcome))
        session.close()


def wait_for_log(host, pattern: str, count: int, *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, host.log())) < count:
        assert time.monotonic() < deadline, f"{pattern!r} seen fewer than {count} times:\n{host.log()[-3000:]}"
        time.sleep(0.1)


def assert_nothing_dropped(traffic: Traffic, event) -> None:
    failed = [outcome for _, outcome in traffic.results if not (isinstance(outcome, int) and 200 <= outcome < 400)]
    assert failed == [], failed[:10]
    registered = [outcome for kind, outcome in traffic.results if kind == "register"]
    assert registered and set(registered) == {302}
    assert Registration.objects.filter(event=event).count() == len(registered)


@pytest.mark.parametrize("threads", ["1", "4"], ids=["sync-worker", "threaded-worker"])
def test_a_reload_by_sighup_while_requests_flow_drops_none(one_host, make_event, threads):
    event = make_event(capacity=1000)
    host = one_host(
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS=threads,
        GUNICORN_GRACEFUL_TIMEOUT="30",
        REGISTRATION_RATE_LIMIT="off",
        EMAIL_ADDRESS_RATE_LIMIT="off",
        METRICS_TOKEN=TOKEN,
    )
    wait_for_log(host, r"Booting worker with pid", 2)

    with Traffic(host, event) as traffic:
        traffic.wait_for(60)
        host.process.send_signal(signal.SIGHUP)
        # New workers boot, then the old ones finish their requests and exit.
        wait_for_log(host, r"Booting worker with pid", 4)
        wait_for_log(host, r"Worker exiting", 2)
        answered = traffic.count()
        traffic.wait_for(max(answered + 60, 300))
    scrape = requests.get(f"{host.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    assert len(traffic.results) >= 300
    assert_nothing_dropped(traffic, event)
    assert "Hang up: Master" in host.log()
    # The counts of the workers that left stay in the sums: none lost in the reload.
    metrics = Metrics(scrape.text)
    counted = sum(v for (name, _), v in metrics.samples.items() if name == "seminar_http_requests_total")
    assert counted == len(traffic.results) + 1  # and the visitor's first look at the talk


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_a_new_master_by_sigusr2_then_sigterm_to_the_old_one_drops_none(one_host, make_event, tmp_path):
    event = make_event(capacity=1000)
    pidfile = tmp_path / "gunicorn.pid"
    host = one_host(
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_GRACEFUL_TIMEOUT="30",
        GUNICORN_CMD_ARGS=f"--pid {pidfile}",
        REGISTRATION_RATE_LIMIT="off",
        EMAIL_ADDRESS_RATE_LIMIT="off",
    )
    old_master = host.process.pid
    wait_for_log(host, r"Booting worker with pid", 2)
    new_master = None
    try:
        with Traffic(host, event) as traffic:
            traffic.wait_for(60)
            host.process.send_signal(signal.SIGUSR2)
            # The new master (the new release's code) starts its own workers on the same socket...
            wait_for_log(host, r"Booting worker with pid", 4)
            # Until the old master is gone, the new one writes its pid next to the old one's.
            new_master = int(Path(f"{pidfile}.2").read_text())
            assert new_master != old_master
            # ...then the old master stops gracefully: its workers finish what they hold.
            host.process.send_signal(signal.SIGTERM)
            host.process.wait(timeout=60)
            wait_for_log(host, r"Master has been promoted", 1)
            answered = traffic.count()
            traffic.wait_for(max(answered + 60, 300))
    finally:
        if new_master:
            os.kill(new_master, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while process_exists(new_master) and time.monotonic() < deadline:
                time.sleep(0.1)

    assert len(traffic.results) >= 300
    assert_nothing_dropped(traffic, event)
    assert not process_exists(new_master)

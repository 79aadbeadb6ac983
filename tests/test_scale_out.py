"""Two web hosts behind one load balancer keep the guarantees.

Each "host" is a separate gunicorn process (two workers each) in production
mode, on the same PostgreSQL database and the same shared cache, reached
directly, as a load balancer would spread requests. The proxy in front is
simulated by the headers it adds: X-Forwarded-Proto and X-Forwarded-For
(TRUSTED_PROXY_COUNT=1).
"""

import itertools
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings
from django.db import connection

from registrations.models import Registration
from tests.servers import collect_static, production_environment, serve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
CLIENTS = 40
REQUEST_TIMEOUT = 120


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    directory = tmp_path_factory.mktemp("static")
    collect_static(directory)
    return directory


@pytest.fixture
def shared_redis():
    """CACHE_URL of the Redis both hosts share, or a skip (a failure under REQUIRE_REDIS) without one."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"REQUIRE_REDIS is set but Redis at {REDIS_URL} does not answer: {error}")
        pytest.skip(f"needs Redis at {REDIS_URL} (set TEST_REDIS_URL): {error}")
    return REDIS_URL


def database_url() -> str:
    """The test database, as the hosts must reach it (its data is committed: transactional test)."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_hosts(require_postgres, static_root, tmp_path):
    """Start two hosts with the given extra environment; both share the database and CACHE_URL (if any)."""

    def start(**environment):
        base = production_environment(
            DATABASE_URL=database_url(),
            STATIC_ROOT=str(static_root),
            TRUSTED_PROXY_COUNT="1",
            # One key space per test run: two runs on one Redis never see each other's counters.
            CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        )
        stack = []
        for name in ("a", "b"):
            manager = serve(base | environment, tmp_path / f"host-{name}.log")
            stack.append((manager, manager.__enter__()))
        return stack

    started = []

    def starter(**environment):
        hosts = start(**environment)
        started.extend(hosts)
        return [host for _, host in hosts]

    yield starter
    for manager, _ in reversed(started):
        manager.__exit__(None, None, None)
    connection.close()


class Browser:
    """What a person's browser sends through the proxy: the CSRF cookie and token, HTTPS as seen by the proxy."""

    def __init__(self, host, event):
        response = host.session.get(
            f"{host.url}{event.get_absolute_url()}", headers={"X-Forwarded-Proto": "https"}, timeout=REQUEST_TIMEOUT
        )
        assert response.status_code == 200, response.text[:2000]
        self.cookie = f"csrftoken={response.cookies['csrftoken']}"
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)[1]

    def register(self, host, event, n, *, client_ip):
        return host.session.post(
            f"{host.url}/events/{event.slug}/register/",
            data={
                "csrfmiddlewaretoken": self.token,
                "name": f"Person {n}",
                "email": f"person{n}@example.edu",
                "consent": "on",
                "website": "",
            },
            headers={
                "Cookie": self.cookie,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": client_ip,
                "Origin": host.url.replace("http://", "https://"),
            },
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )


def test_200_simultaneous_registrations_over_two_hosts_fill_exactly_20_seats(two_hosts, shared_redis, make_event):
    event = make_event(capacity=20, waitlist_enabled=True)
    hosts = two_hosts(CACHE_URL=shared_redis)
    browser = Browser(hosts[0], event)

    def attempt(n):
        # 200 people, each from their own address, alternating between the hosts.
        return browser.register(hosts[n % 2], event, n, client_ip=f"198.51.100.{n % 250}").status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(attempt, range(200)))

    assert statuses == [302] * 200
    event.refresh_from_db()
    assert event.seats_taken == 20
    assert Registration.objects.filter(event=event).confirmed().count() == 20
    assert Registration.objects.filter(event=event).waitlisted().count() == 180
    assert all("POST /events/" in host.log() for host in hosts)


def assert_one_address_is_stopped_across_hosts(hosts, event):
    browser = Browser(hosts[0], event)
    responses = [
        browser.register(host, event, n, client_ip="203.0.113.9")
        for n, host in zip(range(12), itertools.cycle(hosts), strict=False)
    ]

    statuses = [response.status_code for response in responses]
    # REGISTRATION_RATE_LIMIT=5/h counted once across both hosts, not 5 per host or per worker.
    assert statuses == [302] * 5 + [429] * 7
    for response in responses[5:]:
        assert int(response.headers["Retry-After"]) >= 1
        assert "Too many attempts" in response.text
    # Both hosts accepted some and refused some: neither kept a count of its own.
    for host in hosts:
        log = host.log()
        assert re.search(r'"POST /events/[\w-]+/register/ HTTP/1.1" 302 ', log)
        assert re.search(r'"POST /events/[\w-]+/register/ HTTP/1.1" 429 ', log)
    assert Registration.objects.filter(event=event).count() == 5
    event.refresh_from_db()
    assert event.seats_taken == 5
    # Someone else, behind the same proxy, is not affected.
    assert browser.register(hosts[1], event, 99, client_ip="203.0.113.10").status_code == 302


def test_one_address_alternating_between_hosts_meets_the_shared_limit_in_redis(two_hosts, shared_redis, make_event):
    event = make_event(capacity=40)
    hosts = two_hosts(CACHE_URL=shared_redis, REGISTRATION_RATE_LIMIT="5/h")

    assert_one_address_is_stopped_across_hosts(hosts, event)


def test_one_address_alternating_between_hosts_meets_the_shared_limit_in_the_default_store(two_hosts, make_event):
    event = make_event(capacity=40)
    hosts = two_hosts(REGISTRATION_RATE_LIMIT="5/h")  # no CACHE_URL: the database cache

    assert_one_address_is_stopped_across_hosts(hosts, event)


# Cached pages: what one host changes, the other shows on its next request


def text(response) -> str:
    return " ".join(response.text.split())


class Organizer:
    """An organizer logged in to the admin of `host` through the proxy (Secure cookies sent by hand)."""

    def __init__(self, host, username, password):
        self.host = host
        login = f"{host.url}/admin/login/"
        page = host.session.get(login, headers=self.headers({}), timeout=REQUEST_TIMEOUT)
        self.cookies = {"csrftoken": page.cookies["csrftoken"]}
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        response = self.post(login, {"csrfmiddlewaretoken": token, "username": username, "password": password})
        assert response.status_code == 302, response.text[:2000]
        self.cookies |= response.cookies.get_dict()

    def headers(self, cookies):
        return {
            "X-Forwarded-Proto": "https",
            "Origin": self.host.url.replace("http://", "https://"),
            "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        }

    def get(self, url):
        return self.host.session.get(url, headers=self.headers(self.cookies), timeout=REQUEST_TIMEOUT)

    def post(self, url, data):
        cookies = getattr(self, "cookies", {})
        return self.host.session.post(
            url, data=data, headers=self.headers(cookies), allow_redirects=False, timeout=REQUEST_TIMEOUT
        )


def test_both_hosts_show_an_admin_edit_a_registration_and_a_cancellation_on_the_next_request(
    two_hosts, shared_redis, make_event, django_user_model
):
    from tests.html import form_fields

    event = make_event(capacity=3, title="Before the edit")
    django_user_model.objects.create_superuser("boss", "boss@example.edu", "pw-boss-not-real")
    prefix = f"test-{uuid.uuid4().hex}"
    hosts = two_hosts(CACHE_URL=shared_redis, CACHE_KEY_PREFIX=prefix)
    talk = event.get_absolute_url()

    def page(host, path):
        response = host.session.get(f"{host.url}{path}", headers={"X-Forwarded-Proto": "https"}, timeout=120)
        assert response.status_code == 200, response.text[:2000]
        return text(response)

    def every_page():
        return [page(host, path) for host in hosts for path in (talk, "/")]

    assert all("Before the edit" in shown for shown in every_page())
    stored = redis.Redis.from_url(shared_redis).keys(f"{prefix}:*pages:*")
    assert any(b":talk:" in key for key in stored) and any(b":events:upcoming:" in key for key in stored)
    assert "3 of 3 seats left" in page(hosts[1], talk)

    # An organizer renames the talk in the admin on host A.
    organizer = Organizer(hosts[0], "boss", "pw-boss-not-real")
    change = f"{hosts[0].url}/admin/events/event/{event.pk}/change/"
    data = dict(form_fields(organizer.get(change).text, "event_form"))
    response = organizer.post(change, data | {"title": "After the edit", "_save": "Save"})
    assert response.status_code == 302, response.text[:3000]
    shown = every_page()
    assert all("After the edit" in one and "Before the edit" not in one for one in shown)

    # Someone registers on host B; host A's talk page counts the seat.
    browser = Browser(hosts[1], event)
    registered = browser.register(hosts[1], event, 1, client_ip="198.51.100.7")
    assert registered.status_code == 302
    assert "2 of 3 seats left" in page(hosts[0], talk)
    assert "2 of 3 seats left" in page(hosts[1], talk)

    # They cancel with their link on host A; host B's page has the seat back.
    manage = registered.headers["Location"].split("?")[0]
    cancelled = hosts[0].session.post(
        f"{hosts[0].url}{manage}cancel/",
        data={"csrfmiddlewaretoken": browser.token},
        headers={
            "Cookie": browser.cookie,
            "X-Forwarded-Proto": "https",
            "Origin": hosts[0].url.replace("http://", "https://"),
        },
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    assert cancelled.status_code == 302
    assert Registration.objects.filter(event=event).active().count() == 0
    assert "3 of 3 seats left" in page(hosts[1], talk)
    assert "3 of 3 seats left" in page(hosts[0], talk)

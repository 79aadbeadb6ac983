"""Cached pages on several hosts: what one host changes, every host shows on its next request.

Two real gunicorn hosts (two workers each, production mode) share the
PostgreSQL test database and Redis as their cache, as behind a load balancer.
Every change goes through HTTP as people make it: the admin's change form, the
talk page's form, the link in the confirmation email. Pages are first loaded
on both hosts a few times, each time on a new connection so that both workers
of a host keep a copy; after the change, whoever made it sees it on their next
page, and from PAGE_CACHE_LAG on every load on either host must show it.

The last tests put TCP proxies of their own between the hosts and the shared
cache (counting what the hosts ask of it) and between the hosts and their
notification channel (which they cut): a hit asks the cache nothing, and a
change reaches every host within the lag with the channel up or cut.
"""

import time

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.db import connection

from events.models import Event
from registrations.models import Registration
from tests.conftest import _test_database_url
from tests.html import form_fields, parse_head
from tests.proxy import TcpProxy
from tests.servers import CSRF_TOKEN, REQUEST_TIMEOUT, Organizer, Visitor, fresh_get, proxy_headers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Loads per host and page: enough that each of a host's two workers answers some.
LOADS = 4
HOME = "/"
# The hosts' PAGE_CACHE_LAG (the default): how late anyone but the writer may see a change.
LAG = 0.25


def after_the_lag():
    """Everyone (not only the writer) sees a change from PAGE_CACHE_LAG after it on."""
    time.sleep(LAG)


def text(response) -> str:
    return " ".join(response.text.split())


def seen(hosts, path) -> list[str]:
    """The page at `path` as LOADS new visitors per host see it, host a's first."""
    return [text(fresh_get(host, path)) for host in hosts for _ in range(LOADS)]


def assert_every(pages, *shown, absent=()):
    for number, page in enumerate(pages):
        for words in shown:
            assert words in page, f"load {number}: {words!r} is not on the page:\n{page[:3000]}"
        for words in absent:
            assert words not in page, f"load {number}: {words!r} is still on the page:\n{page[:3000]}"


def own_next_page(host, path, visitor, response) -> requests.Response:
    """The page at `path` as the visitor who just got `response` sees it next (their cookies, the fence included)."""
    cookies = visitor.cookies | response.cookies.get_dict()
    page = requests.get(f"{host.url}{path}", headers=proxy_headers(host, cookies), timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200
    return page


def titles(hosts, path) -> set[str]:
    return {parse_head(fresh_get(host, path).text).title for host in hosts for _ in range(LOADS)}


@pytest.fixture
def hosts(two_hosts, shared_redis):
    return two_hosts(CACHE_URL=shared_redis)


@pytest.fixture
def organizer_login(django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.edu")
    # The hosts check it with the production hashers, which know nothing of the tests' fast one.
    user.password = make_password("pw-boss-not-real", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return "boss", "pw-boss-not-real"


def test_an_admin_edit_on_one_host_shows_on_the_talk_and_home_pages_of_both(hosts, make_event, organizer_login):
    event = make_event(title="Before the edit")
    talk = event.get_absolute_url()
    assert_every(seen(hosts, talk) + seen(hosts, HOME), "Before the edit")
    # The pages now come from the cache: a write that skips the invalidation
    # (raw SQL, which no code of the site uses for talks) does not show.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE events_event SET title = %s WHERE id = %s", ["Behind the cache's back", event.pk])
    assert_every(seen(hosts, talk) + seen(hosts, HOME), "Before the edit", absent=["Behind the cache"])

    organizer = Organizer(hosts[0], *organizer_login)
    change = f"{hosts[0].url}/admin/events/event/{event.pk}/change/"
    data = dict(form_fields(organizer.get(change).text, "event_form"))
    saved = organizer.post(change, data | {"title": "After the edit", "_save": "Save"})
    assert saved.status_code == 302, saved.text[:3000]

    after_the_lag()
    assert titles(hosts, talk) == {"After the edit – Atlas Wang · IFML Seminar"}
    assert_every(
        seen(hosts, talk) + seen(hosts, HOME), "After the edit", absent=["Before the edit", "Behind the cache"]
    )


def test_a_registration_on_one_host_shows_in_the_seats_on_the_other_at_once(hosts, make_event):
    event = make_event(capacity=2, waitlist_enabled=True)
    talk = event.get_absolute_url()
    assert_every(seen(hosts, talk), "2 of 2 seats left")
    visitor = Visitor(hosts[1], event)  # the form from host b's cached page

    registered = visitor.register(hosts[0], event, 1, client_ip="198.51.100.1")
    assert registered.status_code == 302
    # Registered on host a, they look at the talk on host b at once: their own next page shows it.
    assert "1 of 2 seats left" in text(own_next_page(hosts[1], talk, visitor, registered))
    after_the_lag()
    assert_every(seen(hosts, talk), "1 of 2 seats left")

    # The last seat: the form turns into the waiting list's everywhere.
    assert visitor.register(hosts[0], event, 2, client_ip="198.51.100.2").status_code == 302
    after_the_lag()
    assert_every(
        seen(hosts, talk), "Full – join the waiting list", ">Join the waiting list</button>", absent=["seats left"]
    )
    # The home page lists no seats; it still lists the talk as it is.
    assert_every(seen(hosts, HOME), event.title)


def test_a_cancellation_through_the_link_on_one_host_frees_the_seat_on_the_other(hosts, make_event):
    event = make_event(capacity=1, waitlist_enabled=True)
    talk = event.get_absolute_url()
    registered = Visitor(hosts[0], event).register(hosts[0], event, 1, client_ip="198.51.100.1")
    assert registered.status_code == 302
    after_the_lag()
    assert_every(seen(hosts, talk), "Full – join the waiting list", absent=["seats left"])

    # Their own link (the one in the confirmation email), opened on host b; then "Cancel my registration".
    link = registered.headers["Location"].split("?")[0]
    page = fresh_get(hosts[1], link)
    assert "Your seat is confirmed" in text(page)
    confirm = fresh_get(hosts[1], f"{link}cancel/")
    cancelled = hosts[1].session.post(
        f"{hosts[1].url}{link}cancel/",
        data={"csrfmiddlewaretoken": CSRF_TOKEN.search(confirm.text)[1]},
        headers=proxy_headers(hosts[1], {"csrftoken": confirm.cookies["csrftoken"]}),
        allow_redirects=False,
        timeout=120,
    )
    assert cancelled.status_code == 302
    assert Registration.objects.get(event=event).status == Registration.Status.CANCELLED

    after_the_lag()
    assert_every(
        seen(list(reversed(hosts)), talk),
        "1 of 1 seats left",
        ">Register</button>",
        absent=["Full – join the waiting list"],
    )
    assert_every(seen(hosts, HOME), event.title)
    assert Event.objects.get(pk=event.pk).seats_taken == 0


# What the hosts ask of the shared cache, and the channel cut


def warm(host, path, store: TcpProxy) -> None:
    """Load `path` until a load asks the store nothing (the host's one worker keeps the page and hears changes)."""
    for _ in range(200):
        before = store.sent
        fresh_get(host, path)
        if store.sent == before:
            return
        time.sleep(0.05)
    raise AssertionError(f"{host.url}{path} still asks the store after 200 loads:\n{host.log()[-3000:]}")


def loads(hosts, path, count, *, store: TcpProxy | None = None) -> tuple[list[str], int]:
    """`count` fresh loads per host, and how many bytes the hosts sent the store meanwhile."""
    before = store.sent if store else 0
    pages = [text(fresh_get(host, path)) for host in hosts for _ in range(count)]
    return pages, (store.sent - before if store else 0)


def assert_shown_everywhere_within_the_lag(hosts, path, words, *, since: float) -> float:
    """Load `path` on both hosts in turn until LAG after `since`, then check that every load shows `words`.

    Returns how long after `since` the last load that did not show them was sent (0 if none).
    """
    late = 0.0
    while (sent := time.monotonic()) < since + LAG:
        for host in hosts:
            if words not in text(fresh_get(host, path)):
                late = sent - since
    time.sleep(max(0.0, since + LAG - time.monotonic()))
    assert_every(seen(hosts, path), words)
    return late


@pytest.fixture
def redis_lines(shared_redis):
    """A proxy to the shared Redis for the cache (counted) and one for the notification channel (cut)."""
    with TcpProxy(shared_redis) as store, TcpProxy(shared_redis) as channel:
        yield store, channel


def test_with_redis_a_hit_asks_nothing_and_changes_reach_both_hosts_within_the_lag_cut_channel_or_not(
    redis_lines, two_hosts, make_event
):
    store, channel = redis_lines
    event = make_event(capacity=3, waitlist_enabled=True)
    talk = event.get_absolute_url()
    # One worker each: "every worker keeps the page" is then a matter of a few loads.
    hosts = two_hosts(CACHE_URL=store.url, PAGE_CACHE_CHANNEL=channel.url, WEB_CONCURRENCY="1")
    for host in hosts:
        warm(host, talk, store)

    pages, asked = loads(hosts, talk, 10, store=store)
    assert asked == 0
    assert_every(pages, "3 of 3 seats left")

    # A registration on host a; the one who made it looks on host b at once.
    visitor = Visitor(hosts[1], event)
    registered = visitor.register(hosts[0], event, 1, client_ip="198.51.100.1")
    since = time.monotonic()
    assert registered.status_code == 302
    assert "2 of 3 seats left" in text(own_next_page(hosts[1], talk, visitor, registered))
    late = assert_shown_everywhere_within_the_lag(hosts, talk, "2 of 3 seats left", since=since)
    print(f"\nchannel up: the last load without the change was sent {1000 * late:.0f} ms after it")

    # The channel goes quiet without a word: the hosts stop trusting what they remember.
    channel.cut()
    registered = Visitor(hosts[0], event).register(hosts[1], event, 2, client_ip="198.51.100.2")
    since = time.monotonic()
    assert registered.status_code == 302
    before = store.sent
    late = assert_shown_everywhere_within_the_lag(hosts, talk, "1 of 3 seats left", since=since)
    print(f"channel cut: the last load without the change was sent {1000 * late:.0f} ms after it")
    assert store.sent > before  # they asked the shared cache

    # Back: the hosts listen again, and hits ask nothing again.
    channel.restore()
    deadline = time.monotonic() + 30
    while loads(hosts, talk, 1, store=store)[1]:
        assert time.monotonic() < deadline, "the hosts did not listen again within 30 s"
        time.sleep(0.2)
    pages, asked = loads(hosts, talk, 5, store=store)
    assert asked == 0
    assert_every(pages, "1 of 3 seats left")
    assert Visitor(hosts[0], event).register(hosts[0], event, 3, client_ip="198.51.100.3").status_code == 302
    assert_shown_everywhere_within_the_lag(hosts, talk, "Full – join the waiting list", since=time.monotonic())


@pytest.fixture
def postgres_lines(require_postgres):
    """A proxy to the test database for the site (counted) and one for LISTEN (cut)."""
    with TcpProxy(_test_database_url()) as database, TcpProxy(_test_database_url()) as channel:
        yield database, channel


def test_with_the_database_cache_a_hit_runs_no_query_and_notify_reaches_both_hosts_within_the_lag(
    postgres_lines, two_hosts, make_event
):
    database, channel = postgres_lines
    event = make_event(capacity=3, waitlist_enabled=True)
    talk = event.get_absolute_url()
    # No CACHE_URL: the cache is the database, the channel PostgreSQL's LISTEN/NOTIFY.
    hosts = two_hosts(DATABASE_URL=database.url, PAGE_CACHE_CHANNEL=channel.url, WEB_CONCURRENCY="1")
    for host in hosts:
        warm(host, talk, database)

    pages, asked = loads(hosts, talk, 10, store=database)
    assert asked == 0  # not even a connection
    assert_every(pages, "3 of 3 seats left")

    visitor = Visitor(hosts[1], event)
    registered = visitor.register(hosts[0], event, 1, client_ip="198.51.100.1")
    since = time.monotonic()
    assert registered.status_code == 302
    assert "2 of 3 seats left" in text(own_next_page(hosts[1], talk, visitor, registered))
    late = assert_shown_everywhere_within_the_lag(hosts, talk, "2 of 3 seats left", since=since)
    print(f"\nchannel up: the last load without the change was sent {1000 * late:.0f} ms after it")

    channel.cut()
    registered = Visitor(hosts[0], event).register(hosts[1], event, 2, client_ip="198.51.100.2")
    assert registered.status_code == 302
    late = assert_shown_everywhere_within_the_lag(hosts, talk, "1 of 3 seats left", since=time.monotonic())
    print(f"channel cut: the last load without the change was sent {1000 * late:.0f} ms after it")

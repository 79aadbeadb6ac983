"""Cached pages on several hosts: what one host changes, every host shows on its next request.

Two real gunicorn hosts (two workers each, production mode) share the
PostgreSQL test database and Redis as their cache, as behind a load balancer.
Every change goes through HTTP as people make it: the admin's change form, the
talk page's form, the link in the confirmation email. Pages are first loaded
on both hosts a few times, each time on a new connection so that both workers
of a host keep a copy; after the change, every load on either host must show it.
"""

import pytest
from django.db import connection

from events.models import Event
from registrations.models import Registration
from tests.html import form_fields, parse_head
from tests.servers import CSRF_TOKEN, Organizer, Visitor, fresh_get, proxy_headers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Loads per host and page: enough that each of a host's two workers answers some.
LOADS = 4
HOME = "/"


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


def titles(hosts, path) -> set[str]:
    return {parse_head(fresh_get(host, path).text).title for host in hosts for _ in range(LOADS)}


@pytest.fixture
def hosts(two_hosts, shared_redis):
    return two_hosts(CACHE_URL=shared_redis)


@pytest.fixture
def organizer_login(django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.edu", "pw-boss-not-real")
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

    assert titles(hosts, talk) == {"After the edit – Atlas Wang · IFML Seminar"}
    assert_every(
        seen(hosts, talk) + seen(hosts, HOME), "After the edit", absent=["Before the edit", "Behind the cache"]
    )


def test_a_registration_on_one_host_shows_in_the_seats_on_the_other_at_once(hosts, make_event):
    event = make_event(capacity=2, waitlist_enabled=True)
    talk = event.get_absolute_url()
    assert_every(seen(hosts, talk), "2 of 2 seats left")
    visitor = Visitor(hosts[1], event)  # the form from host b's cached page

    assert visitor.register(hosts[0], event, 1, client_ip="198.51.100.1").status_code == 302
    assert_every(seen(hosts, talk), "1 of 2 seats left")

    # The last seat: the form turns into the waiting list's everywhere.
    assert visitor.register(hosts[0], event, 2, client_ip="198.51.100.2").status_code == 302
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

    assert_every(
        seen(list(reversed(hosts)), talk),
        "1 of 1 seats left",
        ">Register</button>",
        absent=["Full – join the waiting list"],
    )
    assert_every(seen(hosts, HOME), event.title)
    assert Event.objects.get(pk=event.pk).seats_taken == 0

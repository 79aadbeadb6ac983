import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from registrations import services
from registrations.models import OutgoingMail, Registration, RegistrationLog
from seminar_site.limits import client_ip, parse_rate

pytestmark = pytest.mark.django_db


def registration_data(n, **overrides):
    return {
        "name": f"Person {n}",
        "email": f"person{n}@example.edu",
        "affiliation": "",
        "position": "",
        "consent": "on",
        "website": "",
    } | overrides


def register(client, event, n, **extra):
    return client.post(reverse("registrations:register", kwargs={"slug": event.slug}), registration_data(n), **extra)


def page_text(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_one_address_cannot_hoard_the_seats_of_a_talk(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "5/h"
    event = make_event(capacity=40)

    statuses = [register(client, event, n).status_code for n in range(8)]

    assert statuses == [302] * 5 + [429] * 3
    assert Registration.objects.count() == 5
    event.refresh_from_db()
    assert event.seats_taken == 5


def test_the_429_page_says_when_to_try_again_and_nothing_is_written_or_queued(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event(capacity=40)
    register(client, event, 1)
    before = (Registration.objects.count(), OutgoingMail.objects.count(), RegistrationLog.objects.count())

    response = register(client, event, 2)

    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert response.templates[0].name == "429.html"
    text = page_text(response)
    assert "Too many attempts" in text
    assert "nothing was saved or sent" in text
    assert re.search(r"Please try again in \d+ (minutes?|hours?|seconds?)\.", text), text
    assert 'class="site-header"' in response.content.decode()  # the site's look
    assert (Registration.objects.count(), OutgoingMail.objects.count(), RegistrationLog.objects.count()) == before


def test_the_registration_limit_counts_per_talk(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    first, second = make_event(), make_event()

    assert register(client, first, 1).status_code == 302
    assert register(client, first, 2).status_code == 429
    assert register(client, second, 3).status_code == 302


def test_the_shipped_default_stops_one_address_at_20_registrations_per_talk_or_fewer(client, make_event):
    event = make_event(capacity=100)

    statuses = [register(client, event, n).status_code for n in range(21)]

    assert 429 in statuses
    assert statuses.index(429) <= 20
    assert Registration.objects.count() <= 20


def test_off_switches_the_registration_limit_off(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "off"
    event = make_event(capacity=100)

    assert {register(client, event, n).status_code for n in range(25)} == {302}
    assert Registration.objects.count() == 25


def test_reading_the_talk_page_is_never_limited(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event()
    register(client, event, 1)
    register(client, event, 2)

    assert client.get(event.get_absolute_url()).status_code == 200


def test_one_target_address_gets_a_limited_number_of_emails_from_any_client(client, event, settings):
    settings.EMAIL_ADDRESS_RATE_LIMIT = "2/h"
    services.register(event=event, name="Victim", email="victim@example.edu")
    url = reverse("registrations:lost_link")

    statuses = [
        client.post(url, {"email": "Victim@Example.edu "}, REMOTE_ADDR=f"192.0.2.{n}").status_code for n in range(1, 5)
    ]

    assert statuses == [302, 302, 429, 429]


def test_the_lost_link_page_is_limited_per_client_address(client, settings):
    settings.EMAIL_RATE_LIMIT = "3/h"
    url = reverse("registrations:lost_link")

    statuses = [client.post(url, {"email": f"someone{n}@example.edu"}).status_code for n in range(5)]

    assert statuses == [302, 302, 302, 429, 429]
    assert client.get(url).status_code == 200  # reading the form costs nothing


def test_registering_counts_against_the_target_address_too(client, make_event, settings):
    settings.EMAIL_ADDRESS_RATE_LIMIT = "2/h"
    talks = [make_event() for _ in range(3)]
    url = reverse("registrations:lost_link")

    for talk in talks[:2]:
        assert register(client, talk, 7).status_code == 302
    assert register(client, talks[2], 7).status_code == 429
    assert client.post(url, {"email": "person7@example.edu"}).status_code == 429


def test_a_forged_x_forwarded_for_does_not_change_the_client_address(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "2/h"
    settings.TRUSTED_PROXY_COUNT = 0
    event = make_event(capacity=40)

    statuses = [register(client, event, n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(1, 5)]

    assert statuses == [302, 302, 429, 429]


def test_requests_without_an_address_share_one_budget_rather_than_none(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event(capacity=40)

    assert register(client, event, 1, REMOTE_ADDR="").status_code == 302
    assert register(client, event, 2, REMOTE_ADDR="").status_code == 429


def test_behind_one_trusted_proxy_only_the_address_it_appended_counts(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "2/h"
    settings.TRUSTED_PROXY_COUNT = 1
    event = make_event(capacity=40)

    # The client forges the left part; the proxy (REMOTE_ADDR) appends the address it saw.
    statuses = [
        register(
            client, event, n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7", REMOTE_ADDR="10.0.0.2"
        ).status_code
        for n in range(1, 5)
    ]
    other_client = register(client, event, 9, HTTP_X_FORWARDED_FOR="203.0.113.8", REMOTE_ADDR="10.0.0.2")

    assert statuses == [302, 302, 429, 429]
    assert other_client.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "1.1.1.1, 198.51.100.1", "198.51.100.1"),
        (2, "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),  # did not pass both proxies
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10/h", (10, 3600)), ("5/15m", (5, 900)), ("100/d", (100, 86400)), ("3/s", (3, 1)), (" OFF ", None)],
)
def test_parse_rate(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["", "10", "ten/h", "10/y", "0/h", "10/0m", "10/00m", "-1/h"])
def test_parse_rate_refuses_nonsense(value):
    with pytest.raises(ValueError, match="10/h"):
        parse_rate(value)


def test_a_broken_store_lets_people_register(client, make_event, settings, caplog):
    # An address nothing listens on: the cache raises on every call.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    event = make_event()

    response = register(client, event, 1)

    assert response.status_code == 302
    assert Registration.objects.count() == 1
    assert "could not be counted" in caplog.text


def test_counters_survive_a_full_cache_table(client, make_event, settings):
    # Thousands of other clients' counters must not push ours out of the default store.
    from django.core.cache import cache

    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event()
    register(client, event, 1)
    cache.set_many({f"zz-other-client-{n}": n for n in range(400)}, timeout=3600)

    assert register(client, event, 2).status_code == 429

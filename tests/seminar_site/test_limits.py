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


def test_the_shipped_default_is_a_backstop_of_60_sign_ups_per_address_and_talk(client, make_event):
    event = make_event(capacity=200)

    statuses = []
    while 429 not in statuses and len(statuses) <= 121:
        statuses.append(register(client, event, len(statuses)).status_code)

    # 60 an hour (or up to twice that, should the hour's window turn meanwhile), then refused.
    assert statuses[:60] == [302] * 60
    assert statuses[-1] == 429
    assert 60 <= Registration.objects.count() <= 120
    # Past HOLD_AFTER (10) sign-ups from the address, seats are held until confirmed by email.
    assert Registration.objects.held().count() >= 40


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


def test_exempt_networks_skip_the_per_address_limit_but_not_holds(client, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "2/h"
    settings.RATE_LIMIT_EXEMPT_NETWORKS = ["198.51.100.0/24", "2001:db8::/32"]
    event = make_event(capacity=40)

    campus = [register(client, event, n, REMOTE_ADDR="198.51.100.23").status_code for n in range(12)]
    campus_v6 = [register(client, event, n, REMOTE_ADDR="2001:db8::5").status_code for n in range(12, 15)]
    outside = [register(client, event, n, REMOTE_ADDR="203.0.113.5").status_code for n in range(15, 18)]

    assert campus == [302] * 12 and campus_v6 == [302] * 3
    assert outside == [302, 302, 429]
    # Exempt from refusals, not from proving addresses: past HOLD_AFTER, seats are held.
    campus_people = Registration.objects.filter(email__in=[f"person{n}@example.edu" for n in range(12)])
    assert campus_people.held().count() == 2


def test_exempt_networks_are_parsed_as_networks(settings):
    from seminar_site.limits import is_exempt, parse_networks

    settings.RATE_LIMIT_EXEMPT_NETWORKS = [" 10.1.2.3/16", "2001:DB8::/32", ""]
    assert [str(network) for network in parse_networks(settings.RATE_LIMIT_EXEMPT_NETWORKS)] == [
        "10.1.0.0/16",
        "2001:db8::/32",
    ]
    assert is_exempt("10.1.250.1") and is_exempt("2001:db8:1::1")
    assert not is_exempt("10.2.0.1") and not is_exempt("") and not is_exempt("::ffff:10.1.0.1")
    with pytest.raises(ValueError, match="'campus' is not a network"):
        parse_networks(["campus"])
    # A bad value at run time exempts nobody (the system check refuses it before that).
    settings.RATE_LIMIT_EXEMPT_NETWORKS = ["10.0.0.0/8", "10.0.0.0/33"]
    assert not is_exempt("10.1.1.1")


def test_a_bad_exempt_network_fails_the_system_check(settings):
    from seminar_site.checks import check_exempt_networks

    settings.RATE_LIMIT_EXEMPT_NETWORKS = ["128.83.0.0/16", "campus-nat"]
    errors = check_exempt_networks(None)

    assert [error.id for error in errors] == ["seminar_site.E003"]
    assert "'campus-nat' is not a network in CIDR notation" in errors[0].msg


def test_sign_ups_are_counted_per_address_and_talk_without_storing_the_address(rf, settings):
    from django.db import connection

    from seminar_site.limits import count_sign_up

    request = rf.post("/", REMOTE_ADDR="198.51.100.77")
    counts = [count_sign_up(request, slug="talk-a") for _ in range(3)] + [count_sign_up(request, slug="talk-b")]

    assert counts == [1, 2, 3, 1]
    # The counters' keys are hashes: the address is stored nowhere.
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM django_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(settings.CACHES["default"]["KEY_PREFIX"] in key for key in keys)
    assert not any("198.51.100.77" in key or "talk-a" in key for key in keys)
    unix_socket = rf.post("/", REMOTE_ADDR="")
    assert count_sign_up(unix_socket, slug="talk-a") is None

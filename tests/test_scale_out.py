"""Two web hosts behind one load balancer keep the guarantees.

Each "host" is a separate gunicorn process (two workers each) in production
mode, on the same PostgreSQL database and the same shared cache, reached
directly, as a load balancer would spread requests. The proxy in front is
simulated by the headers it adds: X-Forwarded-Proto and X-Forwarded-For
(TRUSTED_PROXY_COUNT=1).
"""

import itertools
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from registrations.models import Registration
from tests.servers import Visitor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 40


def test_200_simultaneous_registrations_over_two_hosts_fill_exactly_20_seats(two_hosts, shared_redis, make_event):
    event = make_event(capacity=20, waitlist_enabled=True)
    # A rush, but no seat held for confirmation here (tests/registrations/test_holds_over_http.py mixes them in).
    hosts = two_hosts(CACHE_URL=shared_redis, HOLD_DEMAND="off")
    visitor = Visitor(hosts[0], event)

    def attempt(n):
        # 200 people, each from their own address, alternating between the hosts.
        return visitor.register(hosts[n % 2], event, n, client_ip=f"198.51.100.{n % 250}").status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(attempt, range(200)))

    assert statuses == [302] * 200
    event.refresh_from_db()
    assert event.seats_taken == 20
    assert Registration.objects.filter(event=event).confirmed().count() == 20
    assert Registration.objects.filter(event=event).waitlisted().count() == 180
    assert all("POST /events/" in host.log() for host in hosts)


def assert_one_address_is_stopped_across_hosts(hosts, event):
    visitor = Visitor(hosts[0], event)
    responses = [
        visitor.register(host, event, n, client_ip="203.0.113.9")
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
    assert visitor.register(hosts[1], event, 99, client_ip="203.0.113.10").status_code == 302


def test_one_address_alternating_between_hosts_meets_the_shared_limit_in_redis(two_hosts, shared_redis, make_event):
    event = make_event(capacity=40)
    hosts = two_hosts(CACHE_URL=shared_redis, REGISTRATION_RATE_LIMIT="5/h")

    assert_one_address_is_stopped_across_hosts(hosts, event)


def test_one_address_alternating_between_hosts_meets_the_shared_limit_in_the_default_store(two_hosts, make_event):
    event = make_event(capacity=40)
    hosts = two_hosts(REGISTRATION_RATE_LIMIT="5/h")  # no CACHE_URL: the database cache

    assert_one_address_is_stopped_across_hosts(hosts, event)


def test_a_photo_uploaded_through_one_host_is_served_by_the_other(two_hosts, shared_redis, make_event):
    import datetime
    import html

    from django.conf import settings
    from django.utils import timezone

    from speaker_edits import services as speaker_edits
    from tests.servers import REQUEST_TIMEOUT
    from tests.speaker_edits.conftest import gps_exif, jpeg_bytes

    event = make_event()
    # The hosts sign with the test's key, so the link made here opens there.
    hosts = two_hosts(CACHE_URL=shared_redis, SECRET_KEY=settings.SECRET_KEY)
    invitation = speaker_edits.invite_speaker(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    path = f"/speaker/talks/{event.pk}/{invitation.token}/"
    proxy = {"X-Forwarded-Proto": "https"}
    first, second = hosts
    form = first.session.get(f"{first.url}{path}", headers=proxy, timeout=REQUEST_TIMEOUT)
    assert form.status_code == 200, form.text[:2000]
    cookie = f"csrftoken={form.cookies['csrftoken']}"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    state = html.unescape(re.search(r'name="state" value="([^"]+)"', form.text)[1])

    def headers(host):
        origin = host.url.replace("http://", "https://")
        return proxy | {"Cookie": cookie, "Origin": origin, "Referer": f"{origin}{path}"}

    preview = first.session.post(
        f"{first.url}{path}",
        data={
            "csrfmiddlewaretoken": token,
            "state": state,
            "action": "preview",
            "title": event.title,
            "abstract": event.abstract,
            "affiliation": "UT Austin",
            "website": "",
            "bio": "",
        },
        files={"photo": ("me.jpg", jpeg_bytes((1600, 1200), exif=gps_exif()), "image/jpeg")},
        headers=headers(first),
        timeout=REQUEST_TIMEOUT,
    )
    assert preview.status_code == 200, preview.text[:2000]
    photo_path = re.search(r'src="(/speakers/photos/[0-9a-f]{64}\.jpg)"', preview.text)[1]
    draft = html.unescape(re.search(r'name="draft" value="([^"]+)"', preview.text)[1])

    saved = second.session.post(
        f"{second.url}{path}",
        data={"csrfmiddlewaretoken": token, "draft": draft, "action": "confirm"},
        headers=headers(second),
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    assert saved.status_code == 302, saved.text[:2000]

    served = [host.session.get(f"{host.url}{photo_path}", headers=proxy, timeout=REQUEST_TIMEOUT) for host in hosts]
    assert [response.status_code for response in served] == [200, 200]
    assert served[0].content == served[1].content
    assert served[1].headers["Content-Type"] == "image/jpeg"
    talk_page = second.session.get(f"{second.url}{event.get_absolute_url()}", headers=proxy, timeout=REQUEST_TIMEOUT)
    assert f'src="{photo_path}"' in talk_page.text

"""Events counted where they happen: requests by view, page-cache look-ups, refusals, bounces."""

import json

import pytest
from django.urls import reverse

from outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db


class Delta:
    """How much the counters moved between two scrapes (they count for the whole process)."""

    def __init__(self, scrape):
        self.scrape = scrape
        self.before = scrape()

    def __call__(self, name, **labels):
        return self.scrape().value(name, **labels) - self.before.value(name, **labels)


def test_requests_are_counted_and_timed_by_route_name_not_by_path(client, scrape, make_event):
    first, second = make_event(), make_event()
    moved = Delta(scrape)

    for event in (first, second, first):
        assert client.get(event.get_absolute_url()).status_code == 200
    client.get("/events/no-such-talk/")
    client.get("/no/such/page/")
    client.generic("BREW", "/")

    talk = {"view": "events:event_detail", "method": "GET"}
    assert moved("seminar_http_requests_total", status="200", **talk) == 3
    assert moved("seminar_http_requests_total", status="404", **talk) == 1
    assert moved("seminar_http_request_duration_seconds_count", view="events:event_detail") == 4
    assert moved("seminar_http_requests_total", view="unmatched", method="GET", status="404") == 1
    assert moved("seminar_http_requests_total", view="events:event_list", method="other", status="405") == 1
    assert first.slug not in scrape().text


def test_the_page_cache_counts_hits_and_misses_by_page(client, scrape, event, settings):
    settings.PAGE_CACHE = True
    moved = Delta(scrape)

    for _ in range(3):
        client.get(event.get_absolute_url())
    client.get("/")

    assert moved("seminar_page_cache_requests_total", page="talk", result="miss") == 1
    assert moved("seminar_page_cache_requests_total", page="talk", result="hit") == 2
    assert moved("seminar_page_cache_requests_total", page="events:upcoming", result="miss") == 1


def test_refusals_are_counted_by_limit(client, scrape, event, settings):
    settings.REGISTRATION_RATE_LIMIT = "2/h"
    moved = Delta(scrape)
    url = reverse("registrations:register", kwargs={"slug": event.slug})

    statuses = [
        client.post(url, {"name": f"P {n}", "email": f"p{n}@example.edu", "consent": "on"}).status_code
        for n in range(5)
    ]

    assert statuses == [302, 302, 429, 429, 429]
    assert moved("seminar_rate_limit_refusals_total", limit="register") == 3
    assert moved("seminar_http_requests_total", view="registrations:register", method="POST", status="429") == 3


def test_bounces_reported_by_the_provider_are_counted_by_kind(client, scrape, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    OutgoingMail.objects.create(kind="tests.note", recipient="ana@example.edu", status="sent", provider_message_id="m1")
    moved = Delta(scrape)

    def report(record_type, message_id="m1"):
        kind = "HardBounce" if record_type == "Bounce" else record_type
        body = {"RecordType": record_type, "MessageID": message_id, "Email": "ana@example.edu", "Type": kind}
        body |= {"ID": 1, "BouncedAt": "2026-11-20T16:33:54Z", "DeliveredAt": "2026-11-20T16:33:54Z"}
        return client.post(
            "/anymail/postmark/tracking/",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic aG9vazpzM2NyZXQ=",
        )

    assert report("Bounce").status_code == 200
    assert report("SpamComplaint").status_code == 200
    assert report("Bounce", message_id="not-ours").status_code == 200

    assert moved("seminar_mail_bounced_total", event_type="bounced") == 1
    assert moved("seminar_mail_bounced_total", event_type="complained") == 1

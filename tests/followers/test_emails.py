import datetime
import email
import email.policy
from urllib.parse import urlsplit

import pytest
from django.test import Client

from events.models import Event, Venue
from followers import services
from followers.models import Follower
from tests.mime import html_body, sent, text_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def bulk_mail(series, confirmed_follower, make_event, django_capture_on_commit_callbacks):
    """Ana follows with both; one announcement and one digest are sent to her."""
    series.default_venue = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    series.digest_weekday, series.digest_time = 0, datetime.time(8, 0)
    series.save()
    follower = confirmed_follower(series, "ana@example.edu")
    start = datetime.datetime(2027, 3, 24, 10, tzinfo=datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        make_event(status=Event.Status.DRAFT, start=start)
        event = Event.objects.get()
        event.status = Event.Status.PUBLISHED
        event.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_due_digests(now=datetime.datetime(2027, 3, 22, 7, 0, tzinfo=datetime.UTC))
    return follower


def assert_one_click_unsubscribe(message, follower):
    url = message["List-Unsubscribe"].strip()
    assert url.startswith("<") and url.endswith(">")
    url = url[1:-1]
    assert urlsplit(url).scheme == "https"
    assert urlsplit(url).path == follower.unsubscribe_path
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # And a visible link, in both parts.
    assert url in text_body(message)
    assert f'href="{url}"' in html_body(message)
    return url


def test_every_announcement_and_digest_carries_rfc_8058_headers(bulk_mail):
    messages = sent()

    assert sorted(message["Subject"] for message in messages) == [
        "IFML Seminar: talks this week",
        "New talk: Generating a Video: Reflecting on a Two-Year Odyssey",
    ]
    for message in messages:
        assert_one_click_unsubscribe(message, bulk_mail)


def test_the_headers_survive_real_smtp(
    series, confirmed_follower, make_event, smtp_sink, django_capture_on_commit_callbacks
):
    follower = confirmed_follower(series, "ana@example.edu")
    with django_capture_on_commit_callbacks(execute=True):
        make_event()

    [(_sender, recipients, data)] = smtp_sink
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert recipients == ["ana@example.edu"]
    assert_one_click_unsubscribe(message, follower)


def test_what_a_mail_client_does_with_the_header_unsubscribes(bulk_mail, django_capture_on_commit_callbacks):
    url = assert_one_click_unsubscribe(sent()[0], bulk_mail)

    # RFC 8058: a POST to that URL with this body, no cookies, no other credentials.
    response = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert Follower.objects.get(pk=bulk_mail.pk).unsubscribed_at is not None


def test_an_online_talk_without_a_venue_is_announced_as_online(
    series, confirmed_follower, make_event, django_capture_on_commit_callbacks
):
    confirmed_follower(series, "ana@example.edu", digest=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_event(venue=None, attendance_mode="online", capacity=0)

    [message] = sent()
    assert "Online" in text_body(message) and "None" not in text_body(message)
    assert "None" not in html_body(message)

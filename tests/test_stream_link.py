"""The stream link of an online talk is for its online registrants only: no public response ever holds it."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations import services
from tests.html import parse_head

pytestmark = pytest.mark.django_db

ZOOM = "https://utexas.zoom.us/j/91234567890?pwd=Secret123"
SECRET_PARTS = ("91234567890", "Secret123", "zoom.us")


def assert_no_link(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()
    for part in SECRET_PARTS:
        assert part not in text, f"{response.request['PATH_INFO']} shows {part}"


@pytest.fixture
def talk(make_event, series):
    series_talk = make_event(attendance_mode="hybrid", stream_url=ZOOM, online_capacity=1, slug="hybrid-talk")
    make_event(attendance_mode="online", stream_url=ZOOM, slug="online-talk")
    return series_talk


def test_no_public_page_feed_or_calendar_shows_the_link(client, talk, series):
    services.register(event=talk, name="Ana", email="ana@example.edu", attendance="online")
    public = [
        "/",
        "/events/past/",
        talk.get_absolute_url(),
        "/events/online-talk/",
        reverse("events:event_ics", args=[talk.slug]),
        reverse("events:event_ics", args=["online-talk"]),
        series.get_absolute_url(),
        reverse("events:series_calendar", args=[series.slug]),
        reverse("listings:talks_atom"),
        reverse("listings:talks_json"),
        reverse("listings:series_talks_atom", args=[series.slug]),
        reverse("listings:series_talks_json", args=[series.slug]),
        reverse("registrations:already_registered", args=[talk.slug]),
        reverse("registrations:lost_link"),
    ]
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_link(response)


def test_the_json_ld_names_the_talk_page_as_the_virtual_location(client, talk):
    head = parse_head(client.get(talk.get_absolute_url()).content.decode())

    (data,) = head.json_ld()
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    place, virtual = data["location"]
    assert place["@type"] == "Place"
    assert virtual == {"@type": "VirtualLocation", "url": f"https://seminars.example.edu{talk.get_absolute_url()}"}
    assert [offer["name"] for offer in data["offers"]] == ["In person", "Online"]
    assert json.dumps(data).find("zoom") == -1


def test_online_only_talk_has_no_place_in_its_json_ld(client, talk):
    (data,) = parse_head(client.get("/events/online-talk/").content.decode()).json_ld()

    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"]["@type"] == "VirtualLocation"
    assert data["offers"]["availability"] == "https://schema.org/InStock"


def test_a_form_sent_back_with_errors_does_not_show_it(client, talk):
    response = client.post(talk.get_absolute_url() + "register/", {"attendance": "online", "email": "nope"})

    assert response.status_code == 400
    assert_no_link(response)


def test_only_a_confirmed_online_registrant_sees_it_on_their_page(client, talk):
    in_person = services.register(event=talk, name="Ana", email="ana@example.edu", attendance="in_person")
    online = services.register(event=talk, name="Ben", email="ben@example.edu", attendance="online")
    waiting = services.register(event=talk, name="Cy", email="cy@example.edu", attendance="online")

    assert waiting.registration.status == "waitlisted"
    assert_no_link(client.get(in_person.registration.get_absolute_url()))
    assert_no_link(client.get(waiting.registration.get_absolute_url()))
    page = client.get(online.registration.get_absolute_url()).content.decode()
    assert f'href="{ZOOM}"' in page


def test_the_page_shows_it_from_the_reveal_time(client, make_event):
    start = timezone.now() + datetime.timedelta(hours=2)
    event = make_event(attendance_mode="online", stream_url=ZOOM, stream_reveal_minutes=60, start=start)
    registration = services.register(event=event, name="Ana", email="ana@example.edu", attendance="online")

    before = client.get(registration.registration.get_absolute_url())
    event.start = timezone.now() + datetime.timedelta(minutes=30)
    event.end = event.start + datetime.timedelta(hours=1)
    event.save()
    after = client.get(registration.registration.get_absolute_url())

    assert_no_link(before)
    assert "The link to join appears here from" in before.content.decode()
    assert f'href="{ZOOM}"' in after.content.decode()

"""The screen by the door: the talk now or next, its seats, nothing personal, only through the series' current link."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from doorscreen import services
from doorscreen.models import DoorScreen
from events.models import Event, SeriesMember
from tests.teams import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def screen(series):
    return services.rotate_screen_link(series=series)


def now_json(client, screen):
    response = client.get(reverse("doorscreen:json", args=[screen.key]))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    return response.json()


def test_the_next_talk_with_its_seats_and_address(client, screen, make_event, sign_up):
    later = make_event(title="Later talk", slug="later", start=timezone.now() + datetime.timedelta(days=9))
    event = make_event(title="Video <b>generation</b>", capacity=5, start=timezone.now() + datetime.timedelta(days=2))
    sign_up(event, name="Zoë Secret", email="zoe.secret@example.edu")

    data = now_json(client, screen)

    assert data["heading"] == "Next"
    talk = data["talk"]
    assert talk["title"] == "Video <b>generation</b>" and later.title not in json.dumps(data)
    assert talk["speakers"] == ["Atlas Wang, The University of Texas at Austin"]
    assert talk["place"] == "GDC 6.302, Gates Dell Complex"
    assert talk["when"].endswith(("CST", "CDT"))
    assert talk["seats"] == {"text": "4 seats left", "tone": "open"}
    assert talk["url"] == "https://seminars.example.edu" + event.get_absolute_url()
    assert "zoe" not in json.dumps(data).lower() and "secret" not in json.dumps(data).lower()


def test_the_talk_now_until_it_ends(client, screen, make_event):
    start = timezone.now() - datetime.timedelta(minutes=10)
    make_event(title="Running", start=start, end=start + datetime.timedelta(hours=1))
    make_event(title="Next week", slug="nw", start=timezone.now() + datetime.timedelta(days=7))
    data = now_json(client, screen)
    assert (data["heading"], data["talk"]["title"], data["talk"]["seats"]["text"]) == (
        "Now",
        "Running",
        "Happening now",
    )


def test_full_talk_sends_people_to_the_waiting_list(client, screen, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    assert now_json(client, screen)["talk"]["seats"] == {"text": "Full: join the waiting list", "tone": "waitlist"}
    Event.objects.filter(pk=event.pk).update(waitlist_enabled=False)
    assert now_json(client, screen)["talk"]["seats"] == {"text": "Full", "tone": "closed"}


def test_drafts_are_never_shown_and_cancelled_talks_say_so(client, screen, make_event):
    make_event(title="Secret draft", status=Event.Status.DRAFT)
    data = now_json(client, screen)
    assert data["talk"] is None and data["heading"] == "No talk scheduled"
    make_event(title="Called off", slug="off", status=Event.Status.CANCELLED)
    assert now_json(client, screen)["talk"]["seats"]["text"] == "Cancelled"


def test_other_series_talks_are_not_on_this_screen(client, screen, make_event, django_user_model):
    from events.models import Series

    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    make_event(series=other, title="Other talk")
    assert now_json(client, screen)["talk"] is None


def test_the_page_renders_the_same_without_waiting_for_the_script(client, screen, make_event, settings):
    settings.DOOR_SCREEN_REFRESH_SECONDS = 7
    make_event(title="Video generation", capacity=40)
    html = client.get(reverse("doorscreen:screen", args=[screen.key])).content.decode()
    assert "Video generation" in html and "40 seats left" in html
    assert 'data-refresh="7"' in html
    assert "<script src=" in html and "<script>" not in html


def test_a_wrong_link_answers_404_without_telling_anything(client, screen, make_event):
    make_event(title="Video generation")
    for name in ("doorscreen:screen", "doorscreen:json"):
        response = client.get(reverse(name, args=[screen.key[:-1] + ("x" if screen.key[-1] != "x" else "y")]))
        assert response.status_code == 404
        assert b"Video generation" not in response.content and b"IFML" not in response.content


def test_a_rotated_link_stops_working_at_once(client, screen, series, make_event):
    make_event()
    old = screen.key
    new = services.rotate_screen_link(series=series).key
    assert new != old
    assert client.get(reverse("doorscreen:json", args=[old])).status_code == 404
    assert client.get(reverse("doorscreen:screen", args=[old])).status_code == 404
    assert client.get(reverse("doorscreen:json", args=[new])).status_code == 200


def test_the_qr_code_is_an_svg_of_a_published_talk_of_the_series(client, screen, make_event):
    event = make_event()
    response = client.get(reverse("doorscreen:qr", args=[screen.key, event.slug]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<svg")
    draft = make_event(slug="draft", status="draft")
    assert client.get(reverse("doorscreen:qr", args=[screen.key, draft.slug])).status_code == 404


def test_organizers_make_rotate_and_switch_off_their_screen_link(client, series):
    organizer = member(series, "ana")
    client.force_login(organizer)
    url = reverse("doorscreen:manage", args=[series.pk])
    assert "no screen link yet" in client.get(url).content.decode()
    made = client.post(url, {"action": "rotate"}, follow=True).content.decode()
    first = DoorScreen.objects.get(series=series)
    assert first.url in made and "The screen has its link" in made and "previous one" not in made
    renewed = client.post(url, {"action": "rotate"}, follow=True).content.decode()
    assert "The screen has a new link; the previous one no longer works." in renewed
    second = DoorScreen.objects.get(series=series)
    assert second.key != first.key and second.changed_by == organizer
    client.post(url, {"action": "off"})
    assert not DoorScreen.objects.exists()
    assert client.get(reverse("doorscreen:json", args=[second.key])).status_code == 404


def test_other_staff_cannot_see_or_change_the_link(client, series, screen):
    from events.models import Series

    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    url = reverse("doorscreen:manage", args=[series.pk])
    for user in (member(other, "bo"), member(series, "door", role=SeriesMember.Role.DOOR)):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "rotate"}).status_code == 404
    assert DoorScreen.objects.get().key == screen.key

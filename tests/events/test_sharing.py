import datetime
import zoneinfo

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from events.models import Event, Speaker
from tests.html import parse_head

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
SITE = "https://seminars.example.edu"
SCHEMA = "https://schema.org/"


@pytest.fixture
def december_talk(make_event):
    start = datetime.datetime(2031, 12, 8, 11, 0, tzinfo=CHICAGO)
    return make_event(slug="video-odyssey", start=start, end=start + datetime.timedelta(hours=1))


def head_of(client, event):
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    return parse_head(response.content.decode())


def only_json_ld(head):
    blocks = head.json_ld()
    assert len(blocks) == 1
    return blocks[0]


def test_talk_page_title_and_description_say_what_who_when_where(client, december_talk):
    head = head_of(client, december_talk)

    assert head.title == "Generating a Video: Reflecting on a Two-Year Odyssey – Atlas Wang · IFML Seminar"
    description = head.one("description")
    assert description.startswith(
        "Atlas Wang (The University of Texas at Austin) at the IFML Seminar, "
        "Monday, December 8, 2031, 11:00 AM – 12:00 PM CST, GDC 6.302. In this talk, I will recount"
    )
    assert len(description) <= 200


def test_open_graph_and_twitter_tags_use_absolute_urls(client, december_talk):
    head = head_of(client, december_talk)

    url = f"{SITE}/events/video-odyssey/"
    assert head.one("og:url") == url
    assert head.links["canonical"] == [url]
    assert (
        head.one("og:title")
        == head.one("twitter:title")
        == "Generating a Video: Reflecting on a Two-Year Odyssey – Atlas Wang"
    )
    assert head.one("og:description") == head.one("twitter:description") == head.one("description")
    assert head.one("og:site_name") == "Seminars"
    assert head.one("og:locale") == "en_US"
    assert head.one("twitter:card") == "summary"
    # No photo: the site's square icon, still absolute.
    assert head.one("og:image") == head.one("twitter:image") == f"{SITE}/static/img/touch-icon.png"


def test_the_speaker_photo_is_the_preview_image(client, december_talk, speaker):
    speaker.photo_url = "https://www.cs.utexas.edu/photos/atlas-wang.jpg"
    speaker.save()

    head = head_of(client, december_talk)

    assert head.one("og:image") == "https://www.cs.utexas.edu/photos/atlas-wang.jpg"
    assert head.one("twitter:image") == "https://www.cs.utexas.edu/photos/atlas-wang.jpg"
    assert head.one("og:image:alt") == "Photo of Atlas Wang"
    assert only_json_ld(head)["image"] == ["https://www.cs.utexas.edu/photos/atlas-wang.jpg"]


def test_json_ld_describes_the_event(client, december_talk, speaker, venue):
    venue.address = "2317 Speedway, Austin, TX 78712"
    venue.save()
    speaker.website = "https://vita-group.github.io/"
    speaker.save()

    data = only_json_ld(head_of(client, december_talk))

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Generating a Video: Reflecting on a Two-Year Odyssey"
    assert data["url"] == f"{SITE}/events/video-odyssey/"
    # The venue's wall clock with its UTC offset, as a calendar would read it.
    assert data["startDate"] == "2031-12-08T11:00:00-06:00"
    assert data["endDate"] == "2031-12-08T12:00:00-06:00"
    assert data["eventStatus"] == SCHEMA + "EventScheduled"
    assert data["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
    assert data["location"] == {
        "@type": "Place",
        "name": "GDC 6.302, Gates Dell Complex",
        "address": {"@type": "PostalAddress", "streetAddress": "2317 Speedway, Austin, TX 78712"},
    }
    assert data["performer"] == [
        {
            "@type": "Person",
            "name": "Atlas Wang",
            "jobTitle": "Associate Professor",
            "affiliation": {"@type": "Organization", "name": "The University of Texas at Austin"},
            "url": "https://vita-group.github.io/",
        }
    ]
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "IFML Organizers",
        "url": f"{SITE}/series/ifml-seminar/",
    }
    assert data["description"].startswith("In this talk, I will recount")
    assert data["offers"] == {
        "@type": "Offer",
        "url": f"{SITE}/events/video-odyssey/#register",
        "price": "0",
        "availability": SCHEMA + "InStock",
    }
    assert data["isAccessibleForFree"] is True


def test_summer_talk_carries_the_daylight_saving_offset(client, make_event):
    start = datetime.datetime(2031, 7, 8, 16, 0, tzinfo=CHICAGO)
    event = make_event(start=start)

    data = only_json_ld(head_of(client, event))

    assert data["startDate"] == "2031-07-08T16:00:00-05:00"


HOSTILE = '</script><script>alert("x")</script><!-- & \u2028 "quoted" \\ '


def test_a_hostile_title_cannot_break_out_of_the_json_ld(client, make_event, speaker):
    speaker.name = "</SCRIPT><img src=x onerror=alert(1)>"
    speaker.save()
    event = make_event(title=HOSTILE, abstract="<!--<script>")

    response = client.get(event.get_absolute_url())
    head = parse_head(response.content.decode())

    # Exactly the one data block: nothing executable got into the page.
    assert [kind for kind, _ in head.scripts] == ["application/ld+json"]
    data = only_json_ld(head)
    assert data["name"] == HOSTILE
    assert data["description"] == "<!--<script>"
    assert data["performer"][0]["name"] == "</SCRIPT><img src=x onerror=alert(1)>"
    assert HOSTILE in head.one("og:title")
    assert "<img src=x" not in response.content.decode()


def test_cancelled_talk_is_marked_cancelled(client, december_talk):
    december_talk.status = Event.Status.CANCELLED
    december_talk.save()

    head = head_of(client, december_talk)

    assert only_json_ld(head)["eventStatus"] == SCHEMA + "EventCancelled"
    assert only_json_ld(head)["offers"]["availability"] == SCHEMA + "Discontinued"
    assert head.one("description").startswith("Cancelled: ")


def test_moved_talk_is_rescheduled_with_its_previous_start(client, december_talk):
    december_talk.start += datetime.timedelta(days=1)
    december_talk.end += datetime.timedelta(days=1)
    december_talk.save()

    data = only_json_ld(head_of(client, december_talk))

    assert data["eventStatus"] == SCHEMA + "EventRescheduled"
    assert data["previousStartDate"] == "2031-12-08T11:00:00-06:00"
    assert data["startDate"] == "2031-12-09T11:00:00-06:00"


def test_a_room_change_or_a_move_back_is_not_a_reschedule(client, december_talk, venue):
    other_room = type(venue).objects.create(room="GDC 4.304", building="Gates Dell Complex", default_capacity=30)
    december_talk.venue = other_room
    december_talk.save()
    assert only_json_ld(head_of(client, december_talk))["eventStatus"] == SCHEMA + "EventScheduled"

    original = december_talk.start
    december_talk.start, december_talk.end = (
        original + datetime.timedelta(hours=2),
        december_talk.end + datetime.timedelta(hours=2),
    )
    december_talk.save()
    december_talk.start, december_talk.end = original, original + datetime.timedelta(hours=1)
    december_talk.save()
    december_talk.refresh_from_db()

    assert december_talk.previous_start == original
    assert only_json_ld(head_of(client, december_talk))["eventStatus"] == SCHEMA + "EventScheduled"


def test_moving_a_draft_is_no_reschedule(december_talk):
    december_talk.status = Event.Status.DRAFT
    december_talk.save()
    december_talk.start += datetime.timedelta(days=1)
    december_talk.end += datetime.timedelta(days=1)
    december_talk.save()

    december_talk.refresh_from_db()
    assert december_talk.previous_start is None
    assert not december_talk.is_rescheduled


@pytest.mark.parametrize(
    ("fields", "availability"),
    [
        ({"capacity": 1, "seats_taken": 1}, "SoldOut"),
        ({"registration_opens": "future"}, "PreOrder"),
        ({"registration_closes": "past"}, "Discontinued"),
    ],
)
def test_offer_availability_follows_the_seats_and_the_registration_window(client, make_event, fields, availability):
    now = timezone.now()
    values = {"future": now + datetime.timedelta(days=2), "past": now - datetime.timedelta(days=2)}
    fields = {name: values.get(value, value) for name, value in fields.items()}
    if "registration_closes" in fields:
        fields["registration_opens"] = now - datetime.timedelta(days=5)
    event = make_event(**fields)

    offers = only_json_ld(head_of(client, event))["offers"]

    assert offers["availability"] == SCHEMA + availability
    if "registration_opens" in fields:
        assert offers["validFrom"] == timezone.localtime(fields["registration_opens"], CHICAGO).isoformat()


def test_a_talk_without_speakers_still_describes_itself(client, make_event):
    event = make_event()
    event.speakers.clear()

    head = head_of(client, event)

    assert head.one("description").startswith("IFML Seminar, ")
    assert "performer" not in only_json_ld(head)
    assert head.title.startswith("Generating a Video: Reflecting on a Two-Year Odyssey · ")


def test_draft_preview_has_no_structured_data(admin_client, make_event):
    event = make_event(status=Event.Status.DRAFT)

    head = head_of(admin_client, event)

    assert head.json_ld() == []
    assert head.one("robots") == "noindex"


def test_lists_and_series_pages_have_previews_too(client, december_talk, series):
    series.description = "Talks hosted by IFML at UT Austin."
    series.save()

    home = parse_head(client.get("/").content.decode())
    series_page = parse_head(client.get(series.get_absolute_url()).content.decode())

    assert home.one("og:url") == f"{SITE}/"
    assert home.one("description").startswith("Upcoming talks of Seminars")
    assert series_page.one("og:title") == "IFML Seminar"
    assert series_page.one("description") == "Talks hosted by IFML at UT Austin."
    assert series_page.one("og:url") == f"{SITE}/series/ifml-seminar/"


def test_every_page_links_the_icons_and_they_are_served(client, december_talk):
    head = head_of(client, december_talk)

    assert head.links["icon"] == ["/static/favicon.ico", "/static/img/icon.svg"]
    assert head.links["apple-touch-icon"] == ["/static/img/touch-icon.png"]
    for path in [*head.links["icon"], *head.links["apple-touch-icon"]]:
        assert finders.find(path.removeprefix("/static/")), path
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301
    assert favicon["Location"] == "/static/favicon.ico"


def test_speaker_names_only_from_the_talk(client, make_event):
    # A speaker of another talk never leaks into this one's preview.
    other = Speaker.objects.create(name="Someone Else")
    make_event(slug="other").speakers.set([other])
    event = make_event()

    head = head_of(client, event)

    assert "Someone Else" not in head.one("description")


def test_an_online_talk_without_venue_is_a_virtual_location_only(client, make_event, settings):
    start = datetime.datetime(2031, 12, 8, 11, 0, tzinfo=CHICAGO)
    event = make_event(
        slug="online-only",
        venue=None,
        attendance_mode="online",
        stream_url="https://utexas.zoom.us/j/555",
        start=start,
        end=start + datetime.timedelta(hours=1),
    )

    response = client.get(event.get_absolute_url())
    page = response.content.decode()
    data = only_json_ld(parse_head(page))

    assert response.status_code == 200
    assert data["location"] == {"@type": "VirtualLocation", "url": f"{SITE}/events/online-only/"}
    assert data["eventAttendanceMode"] == SCHEMA + "OnlineEventAttendanceMode"
    assert data["offers"]["availability"] == SCHEMA + "InStock"
    assert data["startDate"] == start.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).isoformat()
    assert "None" not in page and "zoom.us" not in page and "GDC" not in page
    assert "Registrants get the link to join." in page


def test_a_past_talk_names_its_public_recording_as_recorded_in(client, make_event):
    from materials import services as materials

    event = make_event(start=timezone.now() - datetime.timedelta(days=3))
    recording = materials.add_material(
        event=event,
        kind="recording",
        title="Recording of the talk",
        visibility="public",
        url="https://video.example.edu/watch/42",
    )
    materials.add_material(
        event=event, kind="recording", title="Raw cut", visibility="registrants", url="https://video.example.edu/raw"
    )
    materials.add_material(event=event, kind="slides", title="Slides", visibility="public", url="https://x.example.edu")

    data = only_json_ld(head_of(client, event))

    assert data["recordedIn"] == {
        "@type": "VideoObject",
        "name": "Recording of the talk",
        "url": "https://video.example.edu/watch/42",
        "uploadDate": recording.public_since.isoformat(),
    }
    datetime.datetime.fromisoformat(data["recordedIn"]["uploadDate"])


def test_a_talk_without_a_recording_says_nothing_of_one(client, december_talk):
    assert "recordedIn" not in only_json_ld(head_of(client, december_talk))

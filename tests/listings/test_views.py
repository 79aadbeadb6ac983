import datetime
import json
import zoneinfo

import pytest
from django.utils import timezone

from events.models import Series
from registrations import services

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TALK_FIELDS = {
    "title",
    "cancellation_note",
    "materials",
    "url",
    "series",
    "speakers",
    "start",
    "end",
    "time_zone",
    "when",
    "attendance_mode",
    "where",
    "place",
    "in_person",
    "online",
    "capacity",
    "seats_left",
    "status",
    "registration",
    "calendar",
}


def listing(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


# The JSON listing


def test_site_listing_holds_exactly_the_public_upcoming_talks(client, public_and_hidden_talks):
    data = listing(client, "/talks.json")

    assert [talk["title"] for talk in data["talks"]] == [
        "Sooner talk",
        "Other series talk",
        "Called-off talk",
        "Later talk",
    ]
    assert [talk["status"] for talk in data["talks"]] == ["scheduled", "scheduled", "cancelled", "scheduled"]


def test_series_listing_holds_only_its_talks(client, public_and_hidden_talks):
    data = listing(client, "/series/ifml-seminar/talks.json")

    assert data["title"] == "IFML Seminar"
    assert data["url"] == "https://seminars.example.edu/series/ifml-seminar/"
    assert [talk["title"] for talk in data["talks"]] == ["Sooner talk", "Called-off talk", "Later talk"]


def test_a_talk_has_its_public_facts_and_nothing_else(client, make_event, venue):
    venue.address = "2317 Speedway, Austin, TX 78712"
    venue.save()
    event = make_event(start=datetime.datetime(2031, 7, 14, 11, 0, tzinfo=CHICAGO), capacity=30)

    (talk,) = listing(client, "/talks.json")["talks"]

    assert set(talk) == TALK_FIELDS
    assert talk["title"] == "Generating a Video: Reflecting on a Two-Year Odyssey"
    assert talk["url"] == f"https://seminars.example.edu/events/{event.slug}/"
    assert talk["calendar"] == f"https://seminars.example.edu/events/{event.slug}/event.ics"
    assert talk["series"] == {"name": "IFML Seminar", "url": "https://seminars.example.edu/series/ifml-seminar/"}
    assert talk["speakers"] == [
        {
            "name": "Atlas Wang",
            "affiliation": "The University of Texas at Austin",
            "position": "Associate Professor",
            "photo": "",
        }
    ]
    # Wall-clock time at the venue with its offset: one instant, readable as is.
    assert talk["start"] == "2031-07-14T11:00:00-05:00"
    assert talk["end"] == "2031-07-14T12:00:00-05:00"
    assert datetime.datetime.fromisoformat(talk["start"]) == event.start
    assert talk["time_zone"] == "America/Chicago"
    assert talk["when"] == "Monday, July 14, 2031, 11:00 AM – 12:00 PM CDT"
    assert talk["place"] == {
        "room": "GDC 6.302",
        "building": "Gates Dell Complex",
        "address": "2317 Speedway, Austin, TX 78712",
        "map_url": "",
    }
    assert (talk["capacity"], talk["seats_left"], talk["status"], talk["registration"]) == (30, 30, "scheduled", "open")
    assert (talk["attendance_mode"], talk["where"]) == ("in_person", "GDC 6.302")
    assert talk["in_person"] == {"capacity": 30, "seats_left": 30, "held": 0, "registration": "open"}
    assert talk["online"] is None
    assert talk["cancellation_note"] is None


def test_seats_left_and_registration_state_follow_sign_ups(client, make_event):
    event = make_event(capacity=1, waitlist_limit=1)

    def state():
        (talk,) = listing(client, "/talks.json")["talks"]
        return talk["seats_left"], talk["registration"]

    assert state() == (1, "open")
    services.register(event=event, name="Ana", email="ana@example.edu")
    assert state() == (0, "waitlist")
    services.register(event=event, name="Bo", email="bo@example.edu")
    assert state() == (0, "full")


STREAM = "https://utexas.zoom.us/j/98765?pwd=secret"


def test_a_hybrid_talk_lists_the_places_left_of_each_way_to_attend(client, make_event, sign_up):
    event = make_event(attendance_mode="hybrid", capacity=1, online_capacity=2, stream_url=STREAM)

    def places():
        (talk,) = listing(client, "/talks.json")["talks"]
        return talk["in_person"], talk["online"], talk["registration"]

    assert places() == (
        {"capacity": 1, "seats_left": 1, "held": 0, "registration": "open"},
        {"capacity": 2, "places_left": 2, "held": 0, "unlimited": False, "registration": "open"},
        "open",
    )
    sign_up(event, attendance="in_person")
    sign_up(event, attendance="online")
    assert places() == (
        {"capacity": 1, "seats_left": 0, "held": 0, "registration": "waitlist"},
        {"capacity": 2, "places_left": 1, "held": 0, "unlimited": False, "registration": "open"},
        "open",
    )
    # A place held until its person confirms by email is taken, and said to be held.
    sign_up(event, attendance="online", signups_from_address=11)
    assert places()[1:] == (
        {"capacity": 2, "places_left": 0, "held": 1, "unlimited": False, "registration": "waitlist"},
        "waitlist",
    )
    (talk,) = listing(client, "/talks.json")["talks"]
    assert talk["where"] == "GDC 6.302 and online"
    assert (talk["capacity"], talk["seats_left"]) == (1, 0)


def test_an_online_talk_lists_unlimited_places_and_no_room(client, make_event, sign_up):
    event = make_event(attendance_mode="online", stream_url=STREAM)
    sign_up(event, attendance="online")

    (talk,) = listing(client, "/talks.json")["talks"]

    assert talk["online"] == {
        "capacity": None,
        "places_left": None,
        "held": 0,
        "unlimited": True,
        "registration": "open",
    }
    assert (talk["in_person"], talk["place"], talk["capacity"], talk["seats_left"]) == (None, None, None, None)
    assert (talk["where"], talk["registration"]) == ("Online", "open")


def test_the_stream_link_is_in_no_listing(client, make_event):
    make_event(attendance_mode="hybrid", stream_url=STREAM)

    for url in ("/talks.json", "/series/ifml-seminar/talks.json", "/series/ifml-seminar/embed/"):
        content = client.get(url).content.decode()
        assert "Generating a Video" in content
        assert "zoom" not in content and "98765" not in content


def test_registration_state_of_cancelled_and_not_yet_open_talks(client, make_event):
    now = timezone.now()
    make_event(title="Opens later", registration_opens=now + datetime.timedelta(days=1))
    make_event(title="Cancelled", status="cancelled")

    states = {talk["title"]: talk["registration"] for talk in listing(client, "/talks.json")["talks"]}

    assert states == {"Opens later": "not_open_yet", "Cancelled": "closed"}


def test_a_cancelled_talk_carries_the_organizers_message_as_written(client, make_event):
    note = 'The speaker is ill <b>again</b> & "we" reschedule.\nSee you in spring.'
    make_event(title="Called off", status="cancelled", cancellation_note=note)
    make_event(title="Called off quietly", status="cancelled")
    make_event(title="On")

    for url in ("/talks.json", "/series/ifml-seminar/talks.json"):
        talks = {talk["title"]: talk for talk in json.loads(client.get(url).content)["talks"]}
        assert (talks["Called off"]["status"], talks["Called off"]["cancellation_note"]) == ("cancelled", note)
        assert (talks["Called off quietly"]["status"], talks["Called off quietly"]["cancellation_note"]) == (
            "cancelled",
            None,
        )
        assert talks["On"]["cancellation_note"] is None


def test_no_personal_data_in_the_listing(client, event):
    services.register(event=event, name="Zoë Registrant", email="zoe.registrant@example.edu", affiliation="Secret Lab")

    for url in ("/talks.json", "/series/ifml-seminar/talks.json", "/series/ifml-seminar/embed/"):
        content = client.get(url).content.decode()
        assert "Generating a Video" in content
        assert "Zoë" not in content
        assert "zoe.registrant" not in content
        assert "Secret Lab" not in content
        assert event.series.organizer_email not in content


def test_unicode_and_markup_come_back_as_written(client, make_event):
    make_event(title='<script>alert("x")</script> Ἀρχή — 王小明')

    (talk,) = listing(client, "/talks.json")["talks"]

    assert talk["title"] == '<script>alert("x")</script> Ἀρχή — 王小明'


@pytest.mark.parametrize(("limit", "count"), [("2", 2), ("0", 1), ("-5", 1), ("abc", 5), ("100000", 5)])
def test_limit_is_clamped(client, make_event, limit, count):
    for _ in range(5):
        make_event()
    assert len(listing(client, f"/talks.json?limit={limit}")["talks"]) == count


def test_unknown_series_is_a_404_another_site_can_read(client, db):
    response = client.get("/series/nope/talks.json")

    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content) == {"error": "No such series."}


def test_listing_query_count_does_not_grow_with_the_number_of_talks(client, make_event, django_assert_num_queries):
    make_event()
    # The series, the talks with their waiting lists, the speakers, the materials.
    with django_assert_num_queries(4):
        client.get("/series/ifml-seminar/talks.json")
    for _ in range(10):
        make_event()
    with django_assert_num_queries(4):
        client.get("/series/ifml-seminar/talks.json")


# Caching and CORS


def test_listing_is_readable_from_any_origin_without_credentials(client, event):
    response = client.get("/talks.json", HTTP_ORIGIN="https://www.cs.utexas.edu")

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "Set-Cookie" not in response
    assert not response.cookies


def test_preflight_is_answered(client, event):
    response = client.options(
        "/series/ifml-seminar/talks.json",
        HTTP_ORIGIN="https://www.cs.utexas.edu",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_listing_is_read_only(client, event):
    for method in (client.post, client.put, client.delete):
        response = method("/talks.json")
        assert response.status_code == 405


def test_listing_is_cacheable_and_answers_conditional_requests(client, event):
    first = client.get("/talks.json")

    assert "public" in first["Cache-Control"]
    assert "max-age=300" in first["Cache-Control"]
    again = client.get("/talks.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*"

    services.register(event=event, name="Ana", email="ana@example.edu")
    changed = client.get("/talks.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert json.loads(changed.content)["talks"][0]["seats_left"] == 39


# The iframe variant


def test_frame_lists_the_series_next_talks(client, public_and_hidden_talks):
    response = client.get("/series/ifml-seminar/embed/")
    page = response.content.decode()

    assert response.status_code == 200
    assert page.index("Sooner talk") < page.index("Called-off talk") < page.index("Later talk")
    assert "Secret draft" not in page
    assert "Old talk" not in page
    assert "Other series talk" not in page
    assert 'href="https://seminars.example.edu/series/ifml-seminar/"' in page
    assert "<script" not in page


def test_frame_may_be_shown_only_by_the_sites_the_series_lists(client, series, event):
    series.embed_origins = "https://www.cs.utexas.edu\nhttps://ml.utexas.edu:8443"
    series.save()

    response = client.get("/series/ifml-seminar/embed/")

    assert "X-Frame-Options" not in response
    policy = dict(directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'self' https://www.cs.utexas.edu https://ml.utexas.edu:8443"
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == "'self'"


def test_frame_of_a_series_without_sites_is_ours_only(client, event):
    response = client.get("/series/ifml-seminar/embed/")
    assert "frame-ancestors 'self';" in response["Content-Security-Policy"] + ";"


def test_other_pages_still_refuse_frames(client, event):
    assert client.get(event.get_absolute_url())["X-Frame-Options"] == "DENY"
    assert client.get("/series/ifml-seminar/")["X-Frame-Options"] == "DENY"


def test_a_bad_origin_stored_by_hand_never_reaches_the_header(client, series, event):
    Series.objects.filter(pk=series.pk).update(
        embed_origins="https://ok.example.edu\nhttps://evil.example; script-src *\njavascript:alert(1)"
    )

    policy = client.get("/series/ifml-seminar/embed/")["Content-Security-Policy"]

    assert "frame-ancestors 'self' https://ok.example.edu;" in policy + ";"
    assert "evil" not in policy
    assert "script-src" not in policy


def test_an_online_talk_without_venue_is_listed_in_the_site_time_zone(client, make_event, settings):
    make_event(venue=None, attendance_mode="online", stream_url=STREAM)

    (talk,) = listing(client, "/talks.json")["talks"]
    frame = client.get("/series/ifml-seminar/embed/").content.decode()

    assert (talk["place"], talk["where"], talk["time_zone"]) == (None, "Online", settings.TIME_ZONE)
    assert "· Online" in frame and "None" not in frame


# Materials in the listings


def test_the_listings_give_each_talks_public_materials(client, make_event):
    from materials import services as materials
    from tests import pdfs

    now = timezone.now()
    coming = make_event(title="Coming talk", start=now + datetime.timedelta(days=2))
    past = make_event(title="Past talk", start=now - datetime.timedelta(days=2))
    materials.add_material(
        event=coming, kind="paper", title="Read first", visibility="public", url="https://arxiv.org/abs/1"
    )
    slides = materials.add_material(
        event=past, kind="slides", title="Slides", visibility="public", upload=pdfs.upload(pdfs.slides())
    )
    materials.add_material(
        event=past, kind="recording", title="Members' cut", visibility="registrants", url="https://video.example.edu/x"
    )

    (upcoming,) = listing(client, "/talks.json")["talks"]
    archive = listing(client, "/talks/past.json")

    assert upcoming["materials"] == [
        {"kind": "paper", "title": "Read first", "url": "https://arxiv.org/abs/1", "type": "link", "size": None}
    ]
    assert [talk["title"] for talk in archive["talks"]] == ["Past talk"]
    assert archive["talks"][0]["materials"] == [
        {
            "kind": "slides",
            "title": "Slides",
            "url": f"https://seminars.example.edu{slides.get_absolute_url()}",
            "type": "application/pdf",
            "size": slides.size,
        }
    ]
    assert archive["texts"]["empty"] == "No past talks yet."
    assert listing(client, "/series/ifml-seminar/past.json")["talks"][0]["title"] == "Past talk"
    assert client.get("/series/nope/past.json").status_code == 404

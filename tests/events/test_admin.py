import datetime
import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event, Speaker, Venue
from tests.admin_forms import event_form_data, inline_management_data
from tests.html import change_list

CHANGELISTS = [
    "/admin/events/series/",
    "/admin/events/speaker/",
    "/admin/events/venue/",
    "/admin/events/event/",
]
ADD_FORMS = [url + "add/" for url in CHANGELISTS]


@pytest.mark.parametrize("url", CHANGELISTS + ADD_FORMS)
def test_admin_pages_load_for_staff(admin_client, event, url):
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", CHANGELISTS + ADD_FORMS)
def test_admin_pages_send_anonymous_visitors_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={url}")


def test_event_change_form_links_to_the_public_page(admin_client, event):
    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert "View on site" in page
    # The seat counter is shown but only the registration services change it.
    assert 'name="seats_taken"' not in page
    assert "Seats taken" in page


def _help_text(page: str, field: str) -> str:
    match = re.search(rf'<div class="help"[^>]*id="id_{field}_helptext"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert match, f"no help text for {field}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[1])).split())


def test_each_time_of_the_talk_form_names_the_zone_it_is_read_in(admin_client, make_event):
    # A talk in Madrid: its page shows Madrid's clock, but the admin reads what is typed on the site's.
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    talk = make_event(venue=madrid, start=datetime.datetime(2027, 7, 6, 16, 0, tzinfo=datetime.UTC))

    page = admin_client.get(f"/admin/events/event/{talk.pk}/change/").content.decode()

    for field in ("start", "end", "registration_opens", "registration_closes"):
        assert "In America/Chicago (CDT), the site's time zone." in _help_text(page, field), field
    assert _help_text(page, "registration_opens").startswith("Empty: open as soon as the talk is published.")
    added = admin_client.get("/admin/events/event/add/").content.decode()
    abbreviation = timezone.localtime(timezone.now() + datetime.timedelta(days=7)).tzname()
    assert f"In America/Chicago ({abbreviation}), the site's time zone." in _help_text(added, "start")


def test_event_changelist_shows_what_an_organizer_scans(admin_client, make_event):
    make_event(title="Cancelled talk", status=Event.Status.CANCELLED)

    page = admin_client.get("/admin/events/event/").content.decode()

    assert "Cancelled talk" in page
    assert "Atlas Wang" in page
    assert "GDC 6.302" in page
    assert "Cancelled" in page
    assert " CST" in page or " CDT" in page


def test_the_talk_list_writes_each_start_on_its_venues_clock_and_sorts_by_it(admin_client, make_event):
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    make_event(title="In Austin", start=datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC))
    make_event(title="In Madrid", venue=madrid, start=datetime.datetime(2026, 12, 16, 17, 0, tzinfo=datetime.UTC))
    make_event(
        title="Online",
        venue=None,
        attendance_mode="online",
        capacity=0,
        start=datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC),
    )

    listing = change_list(admin_client.get("/admin/events/event/").content.decode())

    assert listing.column("title") == ["In Madrid", "In Austin", "Online"]  # the latest first
    assert listing.column("when") == [
        "Wed 16 Dec 2026, 6:00 PM CET",
        "Tue 15 Dec 2026, 11:00 AM CST",
        "Wed 1 Jul 2026, 11:00 AM CDT",  # no venue: the site's clock
    ]
    earliest_first = admin_client.get("/admin/events/event/" + listing.sort_links["when"]).content.decode()
    assert change_list(earliest_first).column("title") == ["Online", "In Austin", "In Madrid"]


def test_a_history_page_writes_when_each_change_was_made_with_the_zone(admin_client, venue):
    url = f"/admin/events/venue/{venue.pk}/change/"
    data = {"room": "GDC 6.302", "building": "Gates Dell Complex", "address": "", "map_url": ""}
    assert admin_client.post(url, data | {"default_capacity": 60, "time_zone": "America/Chicago"}).status_code == 302
    LogEntry.objects.update(action_time=datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC))

    page = admin_client.get(f"/admin/events/venue/{venue.pk}/history/").content.decode()

    when = re.findall(r'<th scope="row">(.*?)</th>', page)
    assert when == ["Tue 15 Dec 2026, 11:00 AM CST"]
    assert "<td>Changed Default capacity" in page


def test_event_changelist_search_and_filters(admin_client, make_event):
    now = timezone.now()
    make_event(title="Upcoming one", start=now + datetime.timedelta(days=3))
    make_event(title="Finished one", start=now - datetime.timedelta(days=3))

    upcoming = admin_client.get("/admin/events/event/?when=upcoming").content.decode()
    past = admin_client.get("/admin/events/event/?when=past").content.decode()
    found = admin_client.get("/admin/events/event/?q=Finished").content.decode()

    assert "Upcoming one" in upcoming
    assert "Finished one" not in upcoming
    assert "Finished one" in past
    assert "Upcoming one" not in past
    assert "Finished one" in found
    assert "Upcoming one" not in found


def test_event_changelist_query_count_does_not_grow(admin_client, make_event):
    make_event()
    with CaptureQueriesContext(connection) as one:
        admin_client.get("/admin/events/event/")
    for _ in range(29):
        event = make_event()
        event.speakers.add(Speaker.objects.create(name="Co-speaker"))
    with CaptureQueriesContext(connection) as thirty:
        response = admin_client.get("/admin/events/event/")
    assert response.status_code == 200
    assert len(thirty) == len(one)


def add_form_data(series, venue, speaker, **overrides):
    start = timezone.now() + datetime.timedelta(days=10)
    return event_form_data(
        series=series,
        venue=venue,
        speakers=[speaker],
        start=start,
        end=start + datetime.timedelta(hours=1),
        **overrides,
    )


def test_adding_a_talk_in_admin_takes_capacity_from_the_venue(admin_client, series, venue, speaker):
    url = "/admin/events/event/add/"
    response = admin_client.post(url, add_form_data(series, venue, speaker) | inline_management_data(admin_client, url))

    assert response.status_code == 302
    event = Event.objects.get(slug="a-new-talk")
    assert event.capacity == 40
    assert list(event.speakers.all()) == [speaker]


def test_admin_refuses_a_talk_that_ends_before_it_starts(admin_client, series, venue, speaker):
    data = add_form_data(series, venue, speaker)
    data["end_0"], data["end_1"] = data["start_0"], data["start_1"]
    url = "/admin/events/event/add/"

    response = admin_client.post(url, data | inline_management_data(admin_client, url))

    assert response.status_code == 200
    assert "The talk must end after it starts." in response.content.decode()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("field", "days_after_start", "message"),
    [
        ("registration_opens", 4, "Registration must open before the talk starts."),
        ("registration_opens", 0, "Registration must open before the talk starts."),
        ("registration_closes", 3, "Registration closes when the talk starts at the latest"),
    ],
)
def test_admin_refuses_registration_dates_after_the_start(
    admin_client, series, venue, speaker, field, days_after_start, message
):
    data = add_form_data(series, venue, speaker)
    moment = datetime.datetime.fromisoformat(f"{data['start_0']} {data['start_1']}")
    moment += datetime.timedelta(days=days_after_start)
    data[f"{field}_0"], data[f"{field}_1"] = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")
    url = "/admin/events/event/add/"

    response = admin_client.post(url, data | inline_management_data(admin_client, url))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_admin_refuses_a_duplicate_slug(admin_client, event, series, venue, speaker):
    url = "/admin/events/event/add/"
    data = add_form_data(series, venue, speaker, slug=event.slug) | inline_management_data(admin_client, url)

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Talk with this Slug already exists." in response.content.decode()
    assert Event.objects.count() == 1


def test_admin_edit_keeps_the_seat_counter(admin_client, event, series, venue, speaker):
    data = add_form_data(series, venue, speaker, slug=event.slug, title="Renamed")
    Event.objects.filter(pk=event.pk).update(seats_taken=7)

    url = f"/admin/events/event/{event.pk}/change/"
    response = admin_client.post(url, data | inline_management_data(admin_client, url))

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Renamed"
    assert event.seats_taken == 7


def test_admin_adds_an_online_talk_without_venue_but_not_a_hybrid_one(admin_client, series, venue, speaker):
    url = "/admin/events/event/add/"
    management = inline_management_data(admin_client, url)
    online = add_form_data(series, venue, speaker, attendance_mode="online", stream_url="https://zoom.us/j/1")
    online["venue"] = ""
    hybrid = online | {"slug": "hybrid-talk", "attendance_mode": "hybrid"}

    refused = admin_client.post(url, hybrid | management)
    added = admin_client.post(url, online | management)

    assert refused.status_code == 200
    assert "A talk in a room needs a venue" in refused.content.decode()
    assert added.status_code == 302
    event = Event.objects.get()
    assert (event.venue, event.attendance_mode) == (None, "online")
    assert "Online" in admin_client.get("/admin/events/event/").content.decode()


def test_the_speaker_admin_shows_and_removes_an_uploaded_photo_which_is_then_gone(
    admin_client, client, speaker, django_capture_on_commit_callbacks
):
    from events.models import SpeakerPhoto

    photo = SpeakerPhoto.objects.create(digest="a" * 64, data=b"\xff\xd8", width=1, height=1)
    speaker.photo = photo
    speaker.save()
    url = f"/admin/events/speaker/{speaker.pk}/change/"
    assert f'src="/speakers/photos/{"a" * 64}.jpg"' in admin_client.get(url).content.decode()

    data = {
        "name": speaker.name,
        "position": speaker.position,
        "affiliation": speaker.affiliation,
        "bio": speaker.bio,
        "photo_url": "",
        "website": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, data)
    assert Speaker.objects.get(pk=speaker.pk).photo_id == "a" * 64  # kept unless asked
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, data | {"remove_photo": "on"})
    assert Speaker.objects.get(pk=speaker.pk).photo_id is None
    # Removed means unreachable: its address answers 404.
    assert client.get(f"/speakers/photos/{'a' * 64}.jpg").status_code == 404


def test_deleting_a_speaker_in_the_admin_erases_their_photo(
    admin_client, client, speaker, django_capture_on_commit_callbacks
):
    from events.models import SpeakerPhoto

    speaker.photo = SpeakerPhoto.objects.create(digest="b" * 64, data=b"\xff\xd8", width=1, height=1)
    speaker.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/events/speaker/{speaker.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Speaker.objects.filter(pk=speaker.pk).exists()
    assert client.get(f"/speakers/photos/{'b' * 64}.jpg").status_code == 404

import datetime
import re
import zoneinfo

import icalendar
import pytest
from django.urls import reverse

from events.ical import description_text
from events.models import Event, Speaker
from events.templatetags.event_calendar import webcal_url

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def calendar_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def test_event_ics_publishes_one_talk(client, event):
    calendar = calendar_of(client.get(reverse("events:event_ics", kwargs={"slug": event.slug})))

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert calendar["PRODID"]
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == f"event-{event.pk}@seminars.example.edu"
    assert str(vevent["SUMMARY"]) == event.title
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["LOCATION"]) == "GDC 6.302, Gates Dell Complex"
    assert str(vevent["ORGANIZER"]) == "mailto:ifml-seminar@example.edu"
    assert "ATTENDEE" not in vevent  # nothing personal on public calendars
    assert "Atlas Wang" in str(vevent["DESCRIPTION"])
    assert vevent["DTSTART"].dt == event.start.replace(microsecond=0)


def test_draft_talk_has_no_ics(client, make_event, admin_client):
    draft = make_event(status=Event.Status.DRAFT)
    url = reverse("events:event_ics", kwargs={"slug": draft.slug})

    assert client.get(url).status_code == 404
    assert admin_client.get(url).status_code == 404
    assert client.get(reverse("events:event_ics", kwargs={"slug": "no-such-talk"})).status_code == 404


def test_dst_start_day_talk_is_at_the_right_instant(client, make_event):
    start = datetime.datetime(2027, 3, 14, 11, 0, tzinfo=CHICAGO)
    event = make_event(start=start, end=start + datetime.timedelta(hours=1))
    response = client.get(reverse("events:event_ics", kwargs={"slug": event.slug}))

    assert b"DTSTART:20270314T160000Z\r\n" in response.content
    assert b"DTEND:20270314T170000Z\r\n" in response.content


def test_series_feed_lists_public_talks_and_marks_cancelled_ones(client, series, make_event, django_assert_num_queries):
    upcoming = make_event()
    cancelled = make_event(status=Event.Status.CANCELLED)
    make_event(status=Event.Status.DRAFT)
    url = reverse("events:series_calendar", kwargs={"slug": series.slug})

    with django_assert_num_queries(3):  # series, talks with series and venue, speakers
        response = client.get(url)
    calendar = calendar_of(response)

    assert str(calendar["X-WR-CALNAME"]) == "IFML Seminar"
    assert str(calendar["METHOD"]) == "PUBLISH"
    by_uid = {str(v["UID"]): v for v in calendar.walk("VEVENT")}
    assert sorted(by_uid) == sorted(f"event-{e.pk}@seminars.example.edu" for e in (upcoming, cancelled))
    assert str(by_uid[f"event-{cancelled.pk}@seminars.example.edu"]["STATUS"]) == "CANCELLED"
    assert str(by_uid[f"event-{upcoming.pk}@seminars.example.edu"]["STATUS"]) == "CONFIRMED"


def test_cancelled_talks_read_the_same_in_every_client(client, series, make_event):
    cancelled = make_event(status=Event.Status.CANCELLED, title="Generating a Video")
    upcoming = make_event(title="Another talk")
    calendar = calendar_of(client.get(reverse("events:series_calendar", kwargs={"slug": series.slug})))
    by_uid = {str(v["UID"]): v for v in calendar.walk("VEVENT")}

    gone = by_uid[f"event-{cancelled.pk}@seminars.example.edu"]
    # Clients that ignore STATUS still show it is off, and it blocks no time.
    assert (str(gone["SUMMARY"]), str(gone["STATUS"]), str(gone["TRANSP"])) == (
        "Cancelled: Generating a Video",
        "CANCELLED",
        "TRANSPARENT",
    )
    kept = by_uid[f"event-{upcoming.pk}@seminars.example.edu"]
    assert (str(kept["SUMMARY"]), str(kept["TRANSP"])) == ("Another talk", "OPAQUE")


def test_calendar_name_and_description_are_text_escaped(client, series):
    from events.models import Series

    Series.objects.filter(pk=series.pk).update(
        name="IFML; Theory, Practice \\ More", description="Talks on ML,\nevery week; all welcome."
    )
    response = client.get(reverse("events:series_calendar", kwargs={"slug": series.slug}))

    raw = response.content.decode()
    assert "X-WR-CALNAME:IFML\\; Theory\\, Practice \\\\ More\r\n" in raw
    assert "X-WR-CALDESC:Talks on ML\\,\\nevery week\\; all welcome.\r\n" in raw
    calendar = icalendar.Calendar.from_ical(response.content)

    def text(value):  # RFC 5545 3.3.11, as calendar clients read X-WR-CALNAME
        return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(value))

    assert text(calendar["X-WR-CALNAME"]) == "IFML; Theory, Practice \\ More"
    assert text(calendar["X-WR-CALDESC"]) == "Talks on ML,\nevery week; all welcome."


def test_series_feed_of_unknown_series_is_404(client, db):
    assert client.get(reverse("events:series_calendar", kwargs={"slug": "nope"})).status_code == 404


def test_talk_page_says_registering_keeps_calendars_current_and_keeps_the_public_ics(client, event):
    response = client.get(event.get_absolute_url())

    content = response.content.decode()
    assert "Registering adds this talk to your calendar and keeps it current" in content
    assert reverse("events:event_ics", kwargs={"slug": event.slug}) in content
    assert 'href="webcal://seminars.example.edu/series/ifml-seminar/calendar.ics"' in content
    # A third, unlinked copy that never updates is gone.
    assert "calendar.google.com" not in content


def test_a_past_talk_offers_nothing_for_a_calendar(client, make_event):
    import datetime

    from django.utils import timezone

    past = make_event(start=timezone.now() - datetime.timedelta(days=3))

    content = client.get(past.get_absolute_url()).content.decode()

    assert "This talk has already taken place." in content
    assert "Add to calendar" not in content
    assert "Registering adds this talk to your calendar" not in content
    assert reverse("events:event_ics", kwargs={"slug": past.slug}) not in content


def test_series_page_offers_webcal_subscription(client, series, event):
    response = client.get(series.get_absolute_url())

    assert webcal_url(series) == "webcal://seminars.example.edu/series/ifml-seminar/calendar.ics"
    assert 'href="webcal://seminars.example.edu/series/ifml-seminar/calendar.ics"' in response.content.decode()


@pytest.mark.parametrize("site_url", ["http://127.0.0.1:8000", "https://talks.example.org/seminars"])
def test_webcal_follows_site_url_at_call_time(settings, series, site_url):
    settings.SITE_URL = site_url
    assert webcal_url(series).startswith("webcal://" + site_url.split("://")[1] + "/series/")


def test_an_online_talk_without_venue_is_online_on_the_public_calendar(client, make_event):
    event = make_event(venue=None, attendance_mode="online", stream_url="https://utexas.zoom.us/j/555")

    for url in (
        reverse("events:event_ics", kwargs={"slug": event.slug}),
        reverse("events:series_calendar", kwargs={"slug": event.series.slug}),
    ):
        response = client.get(url)
        (vevent,) = calendar_of(response).walk("VEVENT")
        assert str(vevent["LOCATION"]) == "Online"
        assert "zoom.us" not in response.content.decode()
        assert vevent["DTSTART"].dt == event.start.replace(microsecond=0)


def test_the_description_names_the_speakers_and_the_talk_page(event):
    assert description_text(event) == (
        "Speaker: Atlas Wang (The University of Texas at Austin)\n\n"
        f"{event.abstract}\n\n"
        f"Details: https://seminars.example.edu{event.get_absolute_url()}"
    )

    event.speakers.add(Speaker.objects.create(name="Zoë Ñúñez"))
    assert description_text(event).startswith("Speakers: Atlas Wang (The University of Texas at Austin), Zoë Ñúñez\n\n")


# Written as an organizer might: RFC 5545's special characters, a line break, and a line that would be a property.
NOTE = "The speaker is ill; we meet again in spring, in GDC 6.302 \\ online.\nATTENDEE:mailto:mallory@example.org"


@pytest.mark.parametrize("feed", ["talk", "series"])
def test_a_cancelled_talk_says_so_first_with_the_organizers_message(client, make_event, feed):
    cancelled = make_event(status=Event.Status.CANCELLED, cancellation_note=NOTE)
    url = (
        reverse("events:event_ics", kwargs={"slug": cancelled.slug})
        if feed == "talk"
        else reverse("events:series_calendar", kwargs={"slug": cancelled.series.slug})
    )

    (vevent,) = calendar_of(client.get(url)).walk("VEVENT")

    assert str(vevent["DESCRIPTION"]).startswith(f"This talk was cancelled.\n{NOTE}\n\nSpeaker: Atlas Wang")
    assert "ATTENDEE" not in vevent  # the message is text, not properties
    assert str(vevent["SUMMARY"]) == f"Cancelled: {cancelled.title}"


def test_a_cancelled_talk_without_a_message_still_says_it_is_cancelled(make_event):
    cancelled = make_event(status=Event.Status.CANCELLED)

    assert description_text(cancelled).startswith("This talk was cancelled.\n\nSpeaker: Atlas Wang")

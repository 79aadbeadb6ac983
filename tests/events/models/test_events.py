import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def test_database_rejects_a_talk_that_ends_before_it_starts(series, venue):
    start = timezone.now() + datetime.timedelta(days=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(series=series, venue=venue, title="Backwards", slug="backwards", start=start, end=start)
    assert not Event.objects.filter(slug="backwards").exists()


def test_clean_explains_that_the_talk_must_end_after_it_starts(series, venue):
    start = timezone.now() + datetime.timedelta(days=3)
    event = Event(
        series=series, venue=venue, title="Backwards", slug="backwards", start=start, end=start - datetime.timedelta(1)
    )
    with pytest.raises(ValidationError) as excinfo:
        event.full_clean()
    assert excinfo.value.message_dict["end"] == ["The talk must end after it starts."]


def test_clean_rejects_registration_closing_before_it_opens(event):
    event.registration_opens = timezone.now()
    event.registration_closes = event.registration_opens - datetime.timedelta(hours=1)
    with pytest.raises(ValidationError) as excinfo:
        event.full_clean()
    assert "registration_closes" in excinfo.value.message_dict


def test_capacity_cannot_be_negative(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(capacity=-1)
    event.refresh_from_db()
    assert event.capacity == 40


def test_seats_taken_cannot_exceed_capacity(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=41)


def test_event_slugs_are_unique(make_event):
    make_event(slug="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_event(slug="same")
    assert Event.objects.filter(slug="same").count() == 1


def test_capacity_defaults_to_the_venue_capacity(make_event):
    assert make_event().capacity == 40
    assert make_event(capacity=12).capacity == 12


def test_capacity_cannot_be_lowered_below_seats_already_taken(event):
    Event.objects.filter(pk=event.pk).update(seats_taken=10)
    event.refresh_from_db()
    event.capacity = 9
    with pytest.raises(ValidationError) as excinfo:
        event.full_clean()
    assert "10 people already hold a seat" in excinfo.value.message_dict["capacity"][0]


def test_a_stale_save_does_not_overwrite_the_seat_counter(event):
    stale = Event.objects.get(pk=event.pk)
    # Meanwhile a registration takes a seat.
    Event.objects.filter(pk=event.pk).update(seats_taken=3)
    stale.title = "A better title"
    stale.save()
    event.refresh_from_db()
    assert event.seats_taken == 3
    assert event.title == "A better title"


def test_local_times_use_the_venue_time_zone(make_event, venue):
    venue.time_zone = "America/New_York"
    venue.save()
    start = datetime.datetime(2031, 1, 13, 11, 0, tzinfo=CHICAGO)
    event = make_event(start=start)
    assert event.local_start.hour == 12
    assert event.local_start.tzname() == "EST"
    assert event.local_end.hour == 13


def test_a_talk_that_ended_a_minute_ago_is_past(make_event):
    now = timezone.now()
    ended = make_event(start=now - datetime.timedelta(minutes=61), end=now - datetime.timedelta(minutes=1))
    assert list(Event.objects.past(now)) == [ended]
    assert list(Event.objects.upcoming(now)) == []
    assert ended.is_past(now)


def test_a_talk_under_way_still_counts_as_upcoming(make_event):
    now = timezone.now()
    ongoing = make_event(start=now - datetime.timedelta(minutes=30), end=now + datetime.timedelta(minutes=30))
    assert list(Event.objects.upcoming(now)) == [ongoing]
    assert list(Event.objects.past(now)) == []
    assert ongoing.has_started(now)
    assert not ongoing.is_past(now)


def test_upcoming_is_soonest_first_and_past_is_newest_first(make_event):
    now = timezone.now()
    later = make_event(start=now + datetime.timedelta(days=9))
    sooner = make_event(start=now + datetime.timedelta(days=2))
    long_ago = make_event(start=now - datetime.timedelta(days=30))
    recently = make_event(start=now - datetime.timedelta(days=2))
    assert list(Event.objects.upcoming(now)) == [sooner, later]
    assert list(Event.objects.past(now)) == [recently, long_ago]


def test_published_includes_cancelled_talks_but_not_drafts(make_event):
    published = make_event()
    cancelled = make_event(status=Event.Status.CANCELLED)
    make_event(status=Event.Status.DRAFT)
    assert set(Event.objects.published()) == {published, cancelled}


def test_str_and_urls(event, series, venue, speaker):
    assert str(event) == event.title
    assert event.get_absolute_url() == f"/events/{event.slug}/"
    assert series.get_absolute_url() == "/series/ifml-seminar/"
    assert str(venue) == "GDC 6.302, Gates Dell Complex"
    assert str(speaker) == "Atlas Wang (The University of Texas at Austin)"


# An online talk needs no venue


def test_an_online_talk_needs_no_venue_and_keeps_the_site_time_zone(make_event, settings):
    event = make_event(venue=None, attendance_mode="online")

    event.full_clean()
    event.refresh_from_db()
    assert event.venue is None
    assert event.capacity == 0  # no seats in a room
    assert event.time_zone_name == settings.TIME_ZONE
    assert event.local_start.utcoffset() == event.start.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset()
    assert event.short_place == "Online"


@pytest.mark.parametrize("mode", ["in_person", "hybrid"])
def test_a_talk_in_a_room_needs_a_venue(series, mode):
    start = timezone.now() + datetime.timedelta(days=3)
    event = Event(series=series, title="T", slug="t", start=start, end=start + datetime.timedelta(hours=1))
    event.attendance_mode = mode

    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert refused.value.message_dict["venue"] == [
        "A talk in a room needs a venue: choose one, or make the talk online only."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()


def test_an_online_talk_without_venue_cannot_become_hybrid_in_the_database(make_event):
    event = make_event(venue=None, attendance_mode="online")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(attendance_mode="hybrid")

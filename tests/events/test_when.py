"""The one formatter for a talk's time: the venue's clock, and always the venue's zone."""

import datetime

import pytest
from django.utils import translation

from events.models import Event, Venue
from events.when import CSV, SHORT, TIME, deadline_text, moment_text, talk_when

UTC = datetime.UTC


@pytest.fixture
def new_york(db):
    return Venue.objects.create(room="Room 101", building="NYU", default_capacity=20, time_zone="America/New_York")


def talk(make_event, venue, start, minutes=60):
    return Event.objects.get(
        pk=make_event(venue=venue, start=start, end=start + datetime.timedelta(minutes=minutes)).pk
    )


def test_a_new_york_talk_reads_in_new_york_time_start_and_end(make_event, new_york, settings):
    settings.TIME_ZONE = "America/Chicago"
    event = talk(make_event, new_york, datetime.datetime(2027, 1, 20, 20, 0, tzinfo=UTC))

    assert talk_when(event) == "Wednesday, January 20, 2027, 3:00 PM – 4:00 PM EST"
    assert talk_when(event, style=SHORT) == "Wed 20 Jan 2027, 3:00 PM EST"
    assert talk_when(event, style=TIME) == "3:00 PM – 4:00 PM EST"
    assert talk_when(event, style=CSV) == "2027-01-20 15:00 EST"


def test_summer_time_is_named(make_event, new_york):
    event = talk(make_event, new_york, datetime.datetime(2027, 7, 14, 19, 0, tzinfo=UTC))

    assert talk_when(event) == "Wednesday, July 14, 2027, 3:00 PM – 4:00 PM EDT"


def test_a_talk_across_the_spring_gap_names_both_zones(make_event, new_york):
    # 2:00 AM EST jumps to 3:00 AM EDT: 1:30 AM EST + 1 hour is 3:30 AM EDT.
    event = talk(make_event, new_york, datetime.datetime(2027, 3, 14, 6, 30, tzinfo=UTC))

    assert talk_when(event) == "Sunday, March 14, 2027, 1:30 AM EST – 3:30 AM EDT"


@pytest.mark.parametrize(
    ("utc_start", "zone"),
    [
        # 1:30 AM happens twice on November 7, 2027: first on daylight time...
        (datetime.datetime(2027, 11, 7, 5, 30, tzinfo=UTC), "EDT"),
        # ...then again an hour later on standard time.
        (datetime.datetime(2027, 11, 7, 6, 30, tzinfo=UTC), "EST"),
    ],
    ids=["first-fold", "second-fold"],
)
def test_both_folds_of_the_autumn_overlap_name_their_zone(make_event, new_york, utc_start, zone):
    event = talk(make_event, new_york, utc_start, minutes=15)

    assert talk_when(event) == f"Sunday, November 7, 2027, 1:30 AM – 1:45 AM {zone}"
    assert talk_when(event, style=SHORT) == f"Sun 7 Nov 2027, 1:30 AM {zone}"
    assert talk_when(event, style=CSV) == f"2027-11-07 01:30 {zone}"


def test_a_talk_ending_the_next_day_names_both_dates(make_event, new_york):
    event = talk(make_event, new_york, datetime.datetime(2027, 1, 21, 3, 0, tzinfo=UTC), minutes=180)

    assert talk_when(event) == "Wednesday, January 20, 2027, 10:00 PM EST – Thursday, January 21, 2027, 1:00 AM EST"


def test_a_zone_without_an_abbreviation_gets_its_offset(make_event):
    istanbul = Venue.objects.create(room="B1", default_capacity=10, time_zone="Europe/Istanbul")
    event = talk(make_event, istanbul, datetime.datetime(2027, 1, 20, 12, 0, tzinfo=UTC))

    assert talk_when(event) == "Wednesday, January 20, 2027, 3:00 PM – 4:00 PM UTC+03"


def test_other_moments_read_on_the_venues_clock(make_event, new_york):
    event = talk(make_event, new_york, datetime.datetime(2027, 1, 20, 20, 0, tzinfo=UTC))

    opens = datetime.datetime(2027, 1, 10, 14, 0, tzinfo=UTC)
    assert moment_text(event, opens) == "Sunday, January 10, 2027, 9:00 AM EST"
    assert moment_text(event, opens, style=CSV) == "2027-01-10 09:00 EST"
    assert moment_text(event, None) == ""


def test_spanish_writes_its_own_day_and_month_names_and_a_24_hour_clock(make_event, new_york):
    event = talk(make_event, new_york, datetime.datetime(2027, 1, 20, 20, 0, tzinfo=UTC))

    with translation.override("es"):
        assert talk_when(event) == "miércoles 20 de enero de 2027, 15:00 – 16:00 EST"
        assert talk_when(event, style=SHORT) == "mié 20 ene 2027, 15:00 EST"
        assert talk_when(event, style=TIME) == "15:00 – 16:00 EST"
        # Spreadsheets parse the export: the same in every language.
        assert talk_when(event, style=CSV) == "2027-01-20 15:00 EST"
    assert talk_when(event) == "Wednesday, January 20, 2027, 3:00 PM – 4:00 PM EST"


def test_a_deadline_is_a_time_on_the_same_local_day_else_a_date_too(make_event, new_york):
    event = talk(make_event, new_york, datetime.datetime(2027, 1, 20, 20, 0, tzinfo=UTC))
    # 11 p.m. in New York on the 19th; the deadline at 11:30 p.m. is that day, the one at 12:30 a.m. is not.
    now = datetime.datetime(2027, 1, 20, 4, 0, tzinfo=UTC)

    assert deadline_text(event, now + datetime.timedelta(minutes=30), now=now) == "11:30 PM EST"
    assert deadline_text(event, now + datetime.timedelta(minutes=90), now=now) == "Wed 20 Jan 2027, 12:30 AM EST"
    with translation.override("es"):
        assert deadline_text(event, now + datetime.timedelta(minutes=30), now=now) == "23:30 EST"
    assert deadline_text(event, None, now=now) == ""

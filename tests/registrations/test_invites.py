import datetime
import zoneinfo

import icalendar
import pytest

from registrations.invites import CANCEL, REQUEST, build_invite, invite_uid
from registrations.models import Registration

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def registrant(event):
    return Registration.objects.create(
        event=event, name="Zoë Ñúñez", email="zoe@example.edu", status=Registration.Status.CONFIRMED
    )


def parse(ics: bytes):
    calendar = icalendar.Calendar.from_ical(ics)
    (vevent,) = calendar.walk("VEVENT")
    return calendar, vevent


def test_request_invite_has_every_property_clients_need(registrant, event):
    calendar, vevent = parse(build_invite(registration=registrant, method=REQUEST, sequence=1))

    assert str(calendar["VERSION"]) == "2.0"
    assert "IFML Seminar" in str(calendar["PRODID"])
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == f"registration-{registrant.key}@seminars.example.edu"
    assert vevent["DTSTAMP"].dt.tzinfo is not None
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["SUMMARY"]) == event.title
    assert vevent["DTSTART"].dt == event.start.replace(microsecond=0)
    assert vevent["DTEND"].dt == event.end.replace(microsecond=0)
    assert str(vevent["LOCATION"]) == "GDC 6.302, Gates Dell Complex"
    description = str(vevent["DESCRIPTION"])
    assert "Atlas Wang" in description
    assert "video generation models" in description
    assert registrant.manage_url in description
    assert str(vevent["URL"]) == f"https://seminars.example.edu/events/{event.slug}/"
    organizer = vevent["ORGANIZER"]
    assert str(organizer) == "mailto:ifml-seminar@example.edu"
    assert organizer.params["CN"] == "IFML Organizers"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:zoe@example.edu"
    assert attendee.params["CN"] == "Zoë Ñúñez"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"


def test_cancel_invite_keeps_uid_and_marks_cancelled(registrant):
    _, request = parse(build_invite(registration=registrant, method=REQUEST, sequence=1))
    calendar, cancel = parse(build_invite(registration=registrant, method=CANCEL, sequence=2))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert str(cancel["UID"]) == str(request["UID"]) == invite_uid(registrant)
    assert cancel["SEQUENCE"] > request["SEQUENCE"]


def test_times_are_written_in_utc(registrant):
    ics = build_invite(registration=registrant, method=REQUEST, sequence=1).decode()
    start = registrant.event.start.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")

    assert f"DTSTART:{start}\r\n" in ics
    assert "TZID" not in ics


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        # Winter, Central Standard Time (UTC-6).
        (datetime.datetime(2027, 1, 20, 11, 0), "20270120T170000Z"),
        # Summer, Central Daylight Time (UTC-5).
        (datetime.datetime(2027, 7, 14, 11, 0), "20270714T160000Z"),
        # The day daylight saving time starts (2 AM jumps to 3 AM): already UTC-5 by 11 AM.
        (datetime.datetime(2027, 3, 14, 11, 0), "20270314T160000Z"),
        # The day it ends (2 AM falls back to 1 AM): UTC-6 again.
        (datetime.datetime(2027, 11, 7, 11, 0), "20271107T170000Z"),
    ],
    ids=["winter-CST", "summer-CDT", "dst-start-day", "dst-end-day"],
)
def test_utc_instants_in_every_season(make_event, local_start, utc_start):
    start = local_start.replace(tzinfo=CHICAGO)
    event = make_event(start=start, end=start + datetime.timedelta(hours=1, minutes=15))
    registrant = Registration.objects.create(
        event=event, name="Ana", email="ana@example.edu", status=Registration.Status.CONFIRMED
    )
    ics = build_invite(registration=registrant, method=REQUEST, sequence=1)
    _, vevent = parse(ics)

    assert vevent.to_ical().decode().count(f"DTSTART:{utc_start}") == 1
    assert vevent["DTSTART"].dt == start
    assert vevent["DTEND"].dt - vevent["DTSTART"].dt == datetime.timedelta(hours=1, minutes=15)


@pytest.mark.parametrize(
    "name",
    [
        "Mallory\r\nATTENDEE:mailto:evil@example.com",
        "Mallory;ROLE=CHAIR:mailto:evil@example.com",
        'Mallory"\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil',
        "محمد עברית 王小明",
    ],
)
def test_registrant_text_cannot_add_properties(event, name):
    registrant = Registration.objects.create(
        event=event, name=name, email="mallory@example.edu", status=Registration.Status.CONFIRMED
    )
    ics = build_invite(registration=registrant, method=REQUEST, sequence=1)
    calendar = icalendar.Calendar.from_ical(ics)

    (vevent,) = calendar.walk("VEVENT")
    attendees = vevent.get("ATTENDEE")
    assert not isinstance(attendees, list)
    assert str(attendees) == "mailto:mallory@example.edu"
    assert attendees.params["ROLE"] == "REQ-PARTICIPANT"
    assert "evil@example.com" not in str(attendees)
    assert str(vevent["UID"]) == invite_uid(registrant)
    assert b"\nATTENDEE:mailto:evil" not in ics

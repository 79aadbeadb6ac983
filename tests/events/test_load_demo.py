import datetime
import io
import zoneinfo
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from events.management.commands.load_demo import demo_slot
from events.models import Event, Series, Speaker, Venue

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
DEMO_URL = "/events/generating-a-video-reflecting-on-a-two-year-odyssey/"


def load_demo():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_creates_the_ifml_talk(db):
    output = load_demo()

    event = Event.objects.get()
    assert "Created demo talk" in output
    assert event.title == "Generating a Video: Reflecting on a Two-Year Odyssey"
    assert event.status == Event.Status.PUBLISHED
    assert event.series.name == "IFML Seminar"
    assert event.series.organizer_email
    assert (event.venue.room, event.venue.building) == ("GDC 6.302", "Gates Dell Complex")
    assert event.venue.address == "2317 Speedway, Austin, TX 78712"
    assert event.capacity == event.venue.default_capacity == 40
    assert event.abstract.startswith("In this talk, I will recount the developmental trajectory")
    assert event.abstract.endswith("the future video generation models.")
    speaker = event.speakers.get()
    assert speaker.name == "Atlas Wang"
    assert speaker.position == "Associate Professor"
    assert speaker.affiliation == "The University of Texas at Austin"
    assert "(VITA)" in speaker.bio
    assert "( and" not in speaker.bio
    assert speaker.bio.endswith("AI for high-frequency trading.")


def test_demo_talk_is_an_hour_before_noon_on_a_weekday_about_two_weeks_out(db):
    load_demo()

    event = Event.objects.get()
    start, end = event.local_start, event.local_end
    today = timezone.localtime(timezone.now(), CHICAGO).date()
    assert 14 <= (start.date() - today).days <= 16
    assert start.weekday() < 5
    assert (start.hour, start.minute, end.hour, end.minute) == (11, 0, 12, 0)
    assert start.tzinfo.key == "America/Chicago"


def test_demo_slot_skips_weekends():
    friday = datetime.datetime(2031, 1, 10, 9, 0, tzinfo=CHICAGO)
    saturday = datetime.datetime(2031, 1, 11, 9, 0, tzinfo=CHICAGO)
    sunday_night = datetime.datetime(2031, 1, 12, 23, 30, tzinfo=CHICAGO)

    assert demo_slot(friday, CHICAGO)[0] == datetime.datetime(2031, 1, 24, 11, 0, tzinfo=CHICAGO)
    assert demo_slot(saturday, CHICAGO)[0] == datetime.datetime(2031, 1, 27, 11, 0, tzinfo=CHICAGO)
    assert demo_slot(sunday_night, CHICAGO)[0] == datetime.datetime(2031, 1, 27, 11, 0, tzinfo=CHICAGO)
    start, end = demo_slot(friday, CHICAGO)
    assert end - start == datetime.timedelta(hours=1)


def test_running_twice_leaves_exactly_one_of_each(db):
    load_demo()
    first_start = Event.objects.get().start
    output = load_demo()

    assert "Kept demo talk" in output
    assert Series.objects.count() == 1
    assert Venue.objects.count() == 1
    assert Speaker.objects.count() == 1
    assert Event.objects.count() == 1
    assert Event.objects.get().speakers.count() == 1
    assert Event.objects.get().start == first_start


def test_rerun_keeps_an_organizers_edits(db):
    load_demo()
    chosen = datetime.datetime(2031, 3, 3, 15, 0, tzinfo=CHICAGO)
    Event.objects.update(start=chosen, end=chosen + datetime.timedelta(hours=2), capacity=25)

    load_demo()

    event = Event.objects.get()
    assert event.start == chosen
    assert event.capacity == 25


def test_rerun_moves_a_demo_talk_that_is_already_over(db):
    load_demo()
    long_ago = timezone.now() - datetime.timedelta(days=30)
    Event.objects.update(start=long_ago, end=long_ago + datetime.timedelta(hours=1))

    output = load_demo()

    event = Event.objects.get()
    assert "Rescheduled demo talk" in output
    assert not event.is_past()
    assert event.local_start.hour == 11
    assert Event.objects.count() == 1


def test_demo_talk_page_shows_title_speaker_abstract_room_and_time(client, db):
    load_demo()

    page = client.get(DEMO_URL).content.decode()

    assert "Generating a Video: Reflecting on a Two-Year Odyssey" in page
    assert "Atlas Wang" in page
    assert "StreamingT2V, reliably generates up to 1200" in page
    assert "GDC 6.302" in page
    assert "11:00 AM – 12:00 PM C" in page
    assert "Generating a Video" in client.get("/").content.decode()


def test_the_command_does_not_read_files_outside_the_project():
    source = Path(__file__).resolve().parents[2] / "events/management/commands/load_demo.py"
    text = source.read_text()
    assert "open(" not in text
    assert "shared" not in text


def test_the_demo_talk_asks_about_lunch(db):
    load_demo()
    load_demo()

    event = Event.objects.get()
    assert list(event.questions.values_list("label", "kind", "required")) == [
        ("Will you join us for lunch after the talk?", "yes_no", True),
        ("Dietary restrictions for lunch?", "short_text", False),
    ]


def test_demo_series_has_a_default_schedule(db):
    call_command("load_demo", stdout=io.StringIO())

    series = Series.objects.get(slug="ifml-seminar")
    assert (series.default_weekday, series.default_start_time.hour, series.default_venue.room) == (4, 11, "GDC 6.302")

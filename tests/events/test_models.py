import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event, Question, Series, Venue

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


def test_series_slugs_are_unique(series):
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(name="Other", slug=series.slug, organizer_name="X", organizer_email="x@example.edu")


def test_venue_room_and_building_are_unique(venue):
    with pytest.raises(IntegrityError), transaction.atomic():
        Venue.objects.create(room=venue.room, building=venue.building, default_capacity=10)


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


def test_unknown_venue_time_zone_is_rejected(db):
    venue = Venue(room="R", default_capacity=5, time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as excinfo:
        venue.full_clean()
    assert "Unknown time zone Mars/Olympus_Mons." in excinfo.value.message_dict["time_zone"]


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


# Sites that may embed a series' listing


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://www.cs.utexas.edu", "https://www.cs.utexas.edu"),
        ("  HTTPS://WWW.CS.UTEXAS.EDU/  ", "https://www.cs.utexas.edu"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        (
            "https://a.example.edu\n\nhttps://a.example.edu\r\nhttps://b.example.edu",
            "https://a.example.edu\nhttps://b.example.edu",
        ),
    ],
)
def test_embed_origins_are_stored_normalized(series, written, stored):
    series.embed_origins = written
    series.full_clean()
    assert series.embed_origins == stored


@pytest.mark.parametrize(
    "written",
    [
        "www.cs.utexas.edu",
        "https://www.cs.utexas.edu/news/",
        "https://www.cs.utexas.edu?x=1",
        "ftp://files.example.edu",
        "https://user@example.edu",
        "https://example.edu; script-src *",
        "https://example.edu 'unsafe-inline'",
        "https://*.example.edu",
        "javascript:alert(1)",
        "https://example.edu:99999",
        "https://",
    ],
)
def test_embed_origins_refuse_what_is_not_an_origin(series, written):
    series.embed_origins = f"https://fine.example.edu\n{written}"
    with pytest.raises(ValidationError) as excinfo:
        series.full_clean()
    assert "is not a web origin" in excinfo.value.message_dict["embed_origins"][0]


# Questions on the registration form


def test_choice_questions_need_two_distinct_choices_stored_tidy(event):
    question = Question(event=event, label="Lunch?", kind=Question.Kind.SINGLE_CHOICE, choices="Vegan\n\n  Vegan ")
    with pytest.raises(ValidationError) as error:
        question.full_clean()
    assert error.value.message_dict == {"choices": ["Give at least two choices, one per line."]}

    question.choices = " Vegan \r\nVegetarian\nVegan\n  Halal   food "
    question.full_clean()
    assert question.choices == "Vegan\nVegetarian\nHalal food"
    assert question.choice_list == ["Vegan", "Vegetarian", "Halal food"]


def test_text_questions_take_no_choices(event):
    question = Question(event=event, label="Anything else?", kind=Question.Kind.LONG_TEXT, choices="a\nb")
    with pytest.raises(ValidationError) as error:
        question.full_clean()
    assert error.value.message_dict == {"choices": ["Only single and multiple choice questions have choices."]}


def test_a_choice_longer_than_200_characters_is_refused(event):
    question = Question(event=event, label="Pick", kind=Question.Kind.MULTIPLE_CHOICE, choices="a\n" + "b" * 201)
    with pytest.raises(ValidationError, match="under 200 characters"):
        question.full_clean()


def test_database_rejects_an_unknown_kind_of_question(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(event=event, label="?", kind="essay")


def test_copying_questions_to_another_talk_keeps_them_in_order(make_event, ask):
    source, target = make_event(), make_event()
    ask(source, "Second", position=2, required=True)
    ask(source, "First", kind=Question.Kind.SINGLE_CHOICE, choices=["Yes, please", "No"], position=1)
    ask(target, "Already there", position=1)

    copies = source.questions.all().copy_to(target)

    assert [question.label for question in copies] == ["First", "Second"]
    assert list(target.questions.values_list("label", "kind", "choices", "required", "position")) == [
        ("Already there", "short_text", "", False, 1),
        ("First", "single_choice", "Yes, please\nNo", False, 1),
        ("Second", "short_text", "", True, 2),
    ]
    assert source.questions.count() == 2


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

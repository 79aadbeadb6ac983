import datetime

import pytest
from django.core import mail

from events.models import Event, Venue
from followers import services
from followers.models import Dispatch
from tests.mime import sent, text_body

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def madrid_series(series):
    """A series in Madrid (summer time from 28 March 2027) with its digest on Mondays at 08:00 local time."""
    series.default_venue = Venue.objects.create(room="Aula 1", default_capacity=50, time_zone="Europe/Madrid")
    series.digest_weekday = 0
    series.digest_time = datetime.time(8, 0)
    series.save()
    return series


@pytest.fixture
def talks(madrid_series, make_event, django_capture_on_commit_callbacks):
    venue = madrid_series.default_venue
    with django_capture_on_commit_callbacks(execute=True):  # their announcements go out (to nobody yet)
        return {
            "before": make_event(title="Winter talk", venue=venue, start=at(2027, 3, 24, 10)),
            "after": make_event(title="Spring talk", venue=venue, start=at(2027, 3, 31, 9)),
            "draft": make_event(title="Draft talk", venue=venue, start=at(2027, 3, 25, 10), status=Event.Status.DRAFT),
        }


@pytest.fixture
def digest_reader(madrid_series, confirmed_follower, talks):
    reader = confirmed_follower(madrid_series, "ana@example.edu", announcements=False)
    confirmed_follower(madrid_series, "news-only@example.edu", digest=False)
    mail.outbox.clear()
    return reader


def run_sweep(now, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return services.queue_due_digests(now=now)


def test_the_digest_goes_out_at_the_series_local_time_on_both_sides_of_a_dst_change(
    digest_reader, django_capture_on_commit_callbacks
):
    # Monday 22 March, 08:00 in Madrid is 07:00 UTC (winter time).
    assert run_sweep(at(2027, 3, 22, 6, 59), django_capture_on_commit_callbacks) == 0
    assert sent() == []
    assert run_sweep(at(2027, 3, 22, 7, 0), django_capture_on_commit_callbacks) == 1
    [winter] = sent()
    assert winter["To"].addresses[0].addr_spec == "ana@example.edu"
    body = text_body(winter)
    assert "Winter talk" in body and "Spring talk" not in body and "Draft talk" not in body
    assert run_sweep(at(2027, 3, 22, 7, 5), django_capture_on_commit_callbacks) == 0  # once per week
    mail.outbox.clear()

    # Monday 29 March, 08:00 in Madrid is 06:00 UTC (summer time): an hour earlier in UTC.
    assert run_sweep(at(2027, 3, 29, 5, 59), django_capture_on_commit_callbacks) == 0
    assert sent() == []
    assert run_sweep(at(2027, 3, 29, 6, 0), django_capture_on_commit_callbacks) == 1
    [summer] = sent()
    assert "Spring talk" in text_body(summer) and "Winter talk" not in text_body(summer)


def test_no_digest_for_a_week_without_talks(digest_reader, django_capture_on_commit_callbacks):
    assert run_sweep(at(2027, 4, 5, 6, 0), django_capture_on_commit_callbacks) == 0
    assert run_sweep(at(2027, 4, 5, 7, 0), django_capture_on_commit_callbacks) == 0

    assert sent() == []
    assert Dispatch.objects.get(kind="digest").recipient_count == 0


def test_a_digest_found_long_after_its_time_is_not_sent(digest_reader, django_capture_on_commit_callbacks):
    # The sweeper was down all Monday: Tuesday's run does not send Monday's digest.
    assert run_sweep(at(2027, 3, 23, 12, 0), django_capture_on_commit_callbacks) == 0
    assert sent() == []


def test_a_series_without_a_digest_schedule_sends_none(
    series, confirmed_follower, make_event, django_capture_on_commit_callbacks
):
    confirmed_follower(series, "ana@example.edu", announcements=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_event(start=at(2027, 3, 24, 10))

    assert run_sweep(at(2027, 3, 22, 12, 0), django_capture_on_commit_callbacks) == 0
    assert sent() == []


def test_the_sweeper_command_runs_the_digest(digest_reader, django_capture_on_commit_callbacks, monkeypatch):
    from django.core.management import call_command
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at(2027, 3, 22, 7, 30))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_queued_mail")

    assert [message["To"].addresses[0].addr_spec for message in sent()] == ["ana@example.edu"]


def _recording(event, title, *, public_since, visibility="public"):
    from materials import services as materials
    from materials.models import Material

    material = materials.add_material(
        event=event, kind="recording", title=title, visibility=visibility, url=f"https://video.example.edu/{title}"
    )
    if visibility == "public":
        Material.objects.filter(pk=material.pk).update(public_since=public_since)
    return material


def test_the_digest_lists_the_last_weeks_new_recordings(digest_reader, talks, django_capture_on_commit_callbacks):
    _recording(talks["before"], "winter-recording", public_since=at(2027, 4, 1, 15))
    _recording(talks["before"], "older-recording", public_since=at(2027, 3, 20, 15))
    _recording(talks["before"], "private-recording", public_since=None, visibility="registrants")

    # Monday 5 April: no talk in the coming week, but a recording from last week.
    assert run_sweep(at(2027, 4, 5, 6, 0), django_capture_on_commit_callbacks) == 1

    [digest] = sent()
    assert digest["Subject"] == "IFML Seminar: new recordings"
    body = text_body(digest)
    assert "A new recording of IFML Seminar:" in body
    assert "Winter talk" in body
    assert "https://video.example.edu/winter-recording" in body
    assert "older-recording" not in body and "private-recording" not in body
    assert "The talks of IFML Seminar in the coming week" not in body


def test_a_week_with_talks_and_recordings_lists_both(digest_reader, talks, django_capture_on_commit_callbacks):
    _recording(talks["before"], "winter-recording", public_since=at(2027, 3, 26, 15))

    assert run_sweep(at(2027, 3, 29, 6, 0), django_capture_on_commit_callbacks) == 1

    [digest] = sent()
    assert digest["Subject"] == "IFML Seminar: talks this week"
    body = text_body(digest)
    assert body.index("Spring talk") < body.index("https://video.example.edu/winter-recording")

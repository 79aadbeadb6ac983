import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.management.commands.load_demo import EVENT as DEMO_EVENT
from events.models import Event
from feedback.models import Feedback
from followers.models import Dispatch
from materials.models import Material
from outbox.models import OutgoingMail
from registrations.models import Registration, RegistrationLog
from seminar_site.management.commands.load_demo_history import PEOPLE, SLUG

pytestmark = pytest.mark.django_db


def run(command):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def history():
    run("load_demo")
    output = run("load_demo_history")
    assert "Created demo past talk" in output
    return Event.objects.get(slug=SLUG)


def test_the_past_talk_is_over_in_the_demo_series_and_room(history):
    upcoming = Event.objects.get(slug=DEMO_EVENT["slug"])

    assert timezone.now() - timezone.timedelta(days=30) < history.end < timezone.now() - timezone.timedelta(days=7)
    assert history.local_start.weekday() == 4 and (history.local_start.hour, history.local_start.minute) == (11, 0)
    assert (history.series, history.venue) == (upcoming.series, upcoming.venue)
    assert history.status == Event.Status.PUBLISHED
    assert "invented for the demo" in history.abstract
    assert not upcoming.is_past()


def test_its_registrants_came_or_not_and_rated_it(history):
    registrations = Registration.objects.filter(event=history)
    came = [person for person in PEOPLE if person[2]]

    assert registrations.count() == len(PEOPLE) == history.seats_taken
    assert set(registrations.values_list("status", flat=True)) == {Registration.Status.CONFIRMED}
    checked_in = registrations.exclude(checked_in_at=None)
    assert checked_in.count() == len(came)
    # Its history reads as if it happened then: signed up in the two weeks before, arrived around the start.
    for registration in registrations:
        assert history.start - timezone.timedelta(days=15) < registration.created_at < history.start
        assert all(entry.created_at < history.end + timezone.timedelta(hours=1) for entry in registration.log.all())
    for registration in checked_in:
        assert abs(registration.checked_in_at - history.start) < timezone.timedelta(minutes=30)
    # The others were marked as no-shows at the door once it ended.
    no_shows = registrations.exclude(no_show_at=None)
    assert set(no_shows) == set(registrations.filter(checked_in_at=None))
    assert all(
        history.end < registration.no_show_at < history.end + timezone.timedelta(hours=1) for registration in no_shows
    )
    assert RegistrationLog.objects.filter(
        registration__event=history, action=RegistrationLog.Action.CHECKED_IN
    ).count() == len(came)
    answers = Feedback.objects.filter(registration__event=history)
    assert sorted(answers.values_list("rating", flat=True)) == sorted(p[3] for p in came if p[3] is not None)
    assert all(answer.created_at > history.end for answer in answers)


def test_nobody_is_emailed(history):
    from feedback.services import queue_due_feedback_requests

    # The sweeper of `make run` asks nobody either: the talk ended too long ago for a feedback request.
    assert queue_due_feedback_requests() == 0
    # Nor are the series' followers told of it as a new talk.
    assert not Dispatch.objects.filter(event=history).exists()
    mails = OutgoingMail.objects.about(Registration.objects.filter(event=history))

    assert mails.count() == len(PEOPLE)
    assert set(mails.values_list("status", flat=True)) == {OutgoingMail.Status.SKIPPED}
    assert not OutgoingMail.objects.filter(status=OutgoingMail.Status.PENDING).exists()


def test_the_past_talks_page_shows_it_with_its_slides_and_no_one_by_name(client, history):
    listing = client.get("/events/past/")
    page = client.get(history.get_absolute_url())

    assert history.title in listing.text
    assert page.status_code == 200
    assert Material.objects.get(event=history).url in page.text
    for name, *_ in PEOPLE:
        assert name not in page.text and name not in listing.text


def test_running_again_keeps_the_one_past_talk(history):
    output = run("load_demo_history")

    assert "Kept demo past talk" in output
    assert Event.objects.filter(slug=SLUG).count() == 1
    assert Registration.objects.filter(event=history).count() == len(PEOPLE)


def test_without_the_demo_series_it_says_what_to_run_first():
    output = run("load_demo_history")

    assert "Run `manage.py load_demo` first" in output
    assert not Event.objects.exists()

"""The feedback email: sent by the sweeper a set number of hours after the talk, once per attendee."""

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from feedback import services
from feedback.emails import REQUEST
from outbox.models import OutgoingMail
from registrations.services import erase_personal_data
from tests.mime import html_body, sent, text_body

HOUR = datetime.timedelta(hours=1)


def ended(event, ago: datetime.timedelta):
    """Move the one-hour talk so that it ended `ago` before now."""
    end = timezone.now() - ago
    Event.objects.filter(pk=event.pk).update(start=end - HOUR, end=end)
    event.refresh_from_db()


def sweep(capture) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("send_queued_mail", stdout=out)
    return out.getvalue()


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_attendees_get_one_email_the_set_time_after_the_end(audience, past_event, settings, capture):
    settings.FEEDBACK_AFTER = 3 * HOUR
    ended(past_event, 2 * HOUR)
    assert "0 feedback requests queued" in sweep(capture)
    assert mail.outbox == []

    ended(past_event, 3 * HOUR + datetime.timedelta(minutes=1))
    assert "2 feedback requests queued" in sweep(capture)
    assert "0 feedback requests queued" in sweep(capture)  # the next minute's sweep

    assert sorted(message.to[0] for message in mail.outbox) == [
        "Ana Ortiz <ana@example.edu>",
        "Chloé Dubois <chloe@example.edu>",
    ]
    assert OutgoingMail.objects.filter(kind=REQUEST).count() == 2


def test_the_email_links_the_form_and_each_rating(audience, past_event, capture, client):
    ended(past_event, 3 * HOUR)
    sweep(capture)

    (message,) = [parsed for parsed in sent() if "ana@example.edu" in parsed["To"]]
    assert message["Subject"] == "How was “Generating a Video: Reflecting on a Two-Year Odyssey”?"
    text = text_body(message)
    links = re.findall(r"https://seminars\.example\.edu(/feedback/[^\s]+/)(\?rating=\d)?", text)
    assert {query for _path, query in links} == {"", "?rating=1", "?rating=2", "?rating=3", "?rating=4", "?rating=5"}
    assert len({path for path, _query in links}) == 1
    assert "Opening a link records nothing" in text
    assert "Rate the talk" in html_body(message)
    path = links[0][0]
    assert client.get(path).status_code == 200


def test_nobody_who_did_not_attend_is_asked(audience, past_event, capture):
    ended(past_event, 3 * HOUR)
    sweep(capture)

    asked = set(OutgoingMail.objects.filter(kind=REQUEST).values_list("about_id", flat=True))
    assert asked == {audience["came"].pk, audience["online"].pk}


def test_a_series_can_turn_it_off(audience, past_event, series, capture):
    series.ask_for_feedback = False
    series.save()
    ended(past_event, 3 * HOUR)

    sweep(capture)

    assert not OutgoingMail.objects.filter(kind=REQUEST).exists()


def test_turned_off_after_queueing_nothing_goes_out(audience, past_event, series):
    ended(past_event, 3 * HOUR)
    assert services.queue_due_feedback_requests() == 2
    series.ask_for_feedback = False
    series.save()

    from outbox.delivery import deliver

    for row in OutgoingMail.objects.filter(kind=REQUEST):
        assert deliver(mail_id=row.pk) == OutgoingMail.Status.SKIPPED
    assert mail.outbox == []


def test_cancelled_talks_and_erased_registrations_get_nothing(audience, past_event, capture):
    ended(past_event, 3 * HOUR)
    erase_personal_data(registrations=[audience["online"]])
    assert services.queue_due_feedback_requests() == 1

    Event.objects.filter(pk=past_event.pk).update(status=Event.Status.CANCELLED)
    OutgoingMail.objects.filter(kind=REQUEST).delete()
    assert services.queue_due_feedback_requests() == 0


def test_a_sweeper_that_was_down_for_days_does_not_ask_about_old_talks(audience, past_event):
    ended(past_event, datetime.timedelta(days=3))
    assert services.queue_due_feedback_requests() == 0


def test_two_sweeps_at_once_queue_one_email_each(audience, past_event):
    ended(past_event, 3 * HOUR)
    assert services.queue_due_feedback_requests() == 2
    # A second sweeper that read the attendees before the first one's rows existed.
    from feedback import emails
    from outbox import services as outbox

    assert (
        outbox.queue_mail(kind=REQUEST, to="ana@example.edu", about=audience["came"], once_key=emails.REQUEST_ONCE_KEY)
        is None
    )
    assert OutgoingMail.objects.filter(kind=REQUEST).count() == 2


def test_a_spanish_registrant_is_asked_in_spanish(audience, past_event, capture):
    from registrations.models import Registration

    Registration.objects.filter(pk=audience["came"].pk).update(language="es")
    ended(past_event, 3 * HOUR)

    sweep(capture)

    (message,) = [parsed for parsed in sent() if "ana@example.edu" in parsed["To"]]
    assert message["Subject"].startswith("¿Qué tal")
    assert "no registra nada" in text_body(message)

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event, Question
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Registration, RegistrationLog
from tests.admin_forms import event_form_data, inline_management_data
from tests.mime import html_body, invite, sent, text_body

pytestmark = pytest.mark.django_db


def change_form_data(admin_client, event, **overrides):
    """What the event change form posts when nothing but `overrides` is edited."""
    url = f"/admin/events/event/{event.pk}/change/"
    fields = {
        "title": event.title,
        "slug": event.slug,
        "status": event.status,
        "abstract": event.abstract,
        "capacity": event.capacity,
    }
    data = event_form_data(
        series=event.series,
        venue=event.venue,
        speakers=event.speakers.all(),
        start=overrides.pop("start", event.start),
        end=overrides.pop("end", event.end),
        **(fields | overrides),
    )
    return url, data | inline_management_data(admin_client, url)


# The event list and page


def test_event_changelist_shows_confirmed_capacity_and_waiting(admin_client, make_event, sign_up):
    event = make_event(capacity=2, title="Busy talk")
    for _ in range(5):
        sign_up(event)
    services.cancel_registration(registration=Registration.objects.filter(event=event).waitlisted().first())

    response = admin_client.get("/admin/events/event/")

    listed = response.context["cl"].result_list
    row = next(e for e in listed if e.pk == event.pk)
    assert (row.confirmed_count, row.capacity, row.waitlisted_count) == (2, 2, 2)
    page = response.content.decode()
    assert '<td class="field-confirmed">2</td>' in page
    assert '<td class="field-waitlisted">2</td>' in page


def test_event_changelist_query_count_does_not_depend_on_events(admin_client, make_event, sign_up):
    sign_up(make_event())
    with CaptureQueriesContext(connection) as one:
        admin_client.get("/admin/events/event/")
    for _ in range(9):
        event = make_event(capacity=1)
        sign_up(event)
        sign_up(event)
    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get("/admin/events/event/")

    assert response.status_code == 200
    assert len(ten) == len(one)


def test_event_page_lists_registrations_read_only_and_escaped(admin_client, event, sign_up):
    sign_up(event, name="<script>alert('x')</script>", affiliation="<b>Lab</b>")

    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()

    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert('x')</script>" not in page
    assert "&lt;b&gt;Lab&lt;/b&gt;" in page
    assert 'name="registrations-0-name"' not in page


def test_raising_capacity_in_admin_promotes_at_once(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(3)]
    url, data = change_form_data(admin_client, event, capacity=3)

    response = admin_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "2 registrations promoted from the waiting list." in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)
    assert [Registration.objects.get(pk=w.pk).status for w in waiting] == ["confirmed", "confirmed", "waitlisted"]
    entry = RegistrationLog.objects.get(registration=waiting[0], action=RegistrationLog.Action.PROMOTED)
    assert entry.actor.username == "admin"


def test_lowering_capacity_below_confirmed_in_admin_is_a_form_error(admin_client, make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=2, title="Renamed", send_update="no")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "3 people already hold a seat." in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken, event.title) == (5, 3, event.title)
    assert event.title != "Renamed"


def test_lowering_capacity_to_confirmed_in_admin_is_allowed(admin_client, make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=3)

    assert admin_client.post(url, data).status_code == 302

    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)


def test_seats_taken_after_form_was_read_still_refuse_the_capacity(admin_client, make_event, sign_up, monkeypatch):
    event = make_event(capacity=5)
    sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=2, title="Renamed", send_update="no")
    # Someone registers between the form's validation and the save: the service, under the lock, says no.
    monkeypatch.setattr(Event, "clean", lambda self: None)
    for _ in range(2):
        sign_up(event)

    response = admin_client.post(url, data, follow=True)

    assert "The capacity was not changed: 3 people already hold a seat" in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken, event.title) == (5, 3, "Renamed")


# Questions on the registration form


def with_questions(data, *questions, initial=0):
    """Add the question inline's forms to an event change form's data."""
    data = data | {"questions-TOTAL_FORMS": str(len(questions)), "questions-INITIAL_FORMS": str(initial)}
    for index, question in enumerate(questions):
        data |= {f"questions-{index}-{name}": value for name, value in question.items()}
    return data


def test_organizer_adds_questions_to_a_talk(organizer, client, event):
    url, data = change_form_data(client, event)
    data = with_questions(
        data,
        {"label": "Dietary restrictions for lunch?", "kind": "short_text", "position": "2", "choices": ""},
        {
            "label": "Lunch?",
            "kind": "single_choice",
            "choices": "Vegan\r\nVegetarian\r\nAnything",
            "required": "on",
            "position": "1",
            "help_text": "We order for everyone.",
        },
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(event.questions.values_list("label", "kind", "choices", "required")) == [
        ("Lunch?", "single_choice", "Vegan\nVegetarian\nAnything", True),
        ("Dietary restrictions for lunch?", "short_text", "", False),
    ]
    assert "Lunch?" in client.get(event.get_absolute_url()).content.decode()


def test_a_choice_question_without_choices_is_a_form_error(organizer, client, event):
    url, data = change_form_data(client, event)
    data = with_questions(data, {"label": "Lunch?", "kind": "multiple_choice", "choices": "Only one", "position": "1"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Give at least two choices, one per line." in response.content.decode()
    assert not Question.objects.exists()


def test_a_question_people_answered_cannot_be_deleted(admin_client, event, ask):
    question = ask(event, "Lunch?", kind="yes_no")
    services.register(event=event, name="Ana", email="ana@example.edu", answers={question.pk: "yes"})
    url, data = change_form_data(admin_client, event)
    data |= {
        "questions-0-id": str(question.pk),
        "questions-0-event": str(event.pk),
        "questions-0-label": "Lunch?",
        "questions-0-kind": "yes_no",
        "questions-0-position": "1",
        "questions-0-DELETE": "on",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.content.decode()
    assert Question.objects.filter(pk=question.pk).exists()


# "Send an update to the N registrants?"


@pytest.fixture
def two_registrants(event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people = [sign_up(event, email="ana@example.edu"), sign_up(event, email="bo@example.edu")]
    mail.outbox.clear()
    return people


def post_change(admin_client, event, capture, **overrides):
    url, data = change_form_data(admin_client, event, **overrides)
    with capture(execute=True):
        return admin_client.post(url, data, follow=True)


def test_moving_a_talk_asks_first_with_yes_preselected_and_saves_nothing(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
    )

    page = response.content.decode()
    assert "Send an update to the 2 registrants?" in page
    assert "This change shows in their calendars" in page
    assert re.search(r'value="yes"[^>]*checked', page)
    assert Event.objects.get(pk=event.pk).start == event.start
    assert mail.outbox == []


def test_a_new_time_sent_as_an_update_raises_each_registrants_sequence(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        send_update="yes",
    )

    assert "An update of the talk goes to its 2 registrants." in response.content.decode()
    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ana@example.edu", "bo@example.edu"]
    for message in messages:
        assert message["Subject"].startswith("Updated time or place:")
        _calendar, vevent, _part = invite(message)
        assert vevent["SEQUENCE"] == 1
        assert vevent["DTSTART"].dt == later.replace(microsecond=0)
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [1, 1]


def test_a_new_time_kept_from_calendars_sends_nothing(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        send_update="no",
    )

    assert "No update was sent" in response.content.decode()
    assert Event.objects.get(pk=event.pk).start == later.replace(microsecond=0)
    assert mail.outbox == []
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [0, 0]


def test_a_new_title_is_asked_with_no_preselected(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    response = post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title")

    page = response.content.decode()
    assert "Send an update to the 2 registrants?" in page
    assert re.search(r'value="no"[^>]*checked', page)
    assert Event.objects.get(pk=event.pk).title == event.title


def test_a_new_title_sent_on_request_reaches_calendars(
    admin_client, event, two_registrants, speaker, django_capture_on_commit_callbacks
):
    post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title", send_update="yes")

    messages = sent()
    assert len(messages) == 2
    for message in messages:
        assert message["Subject"].startswith("Updated: A better title")
        assert "The details of a talk you are registered for have changed." in html_body(message)
        _calendar, vevent, _part = invite(message)
        assert str(vevent["SUMMARY"]) == "A better title"
        assert vevent["SEQUENCE"] == 1


def test_a_resend_repeats_the_current_sequence_with_the_current_text(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title", send_update="no")
    assert mail.outbox == []
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, name="Ana", email="ana@example.edu")

    (message,) = sent()
    assert message["Subject"].startswith("Your registration: A better title")
    _calendar, vevent, _part = invite(message)
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["SUMMARY"]) == "A better title"


def test_a_talk_without_registrants_is_saved_without_asking(admin_client, event, django_capture_on_commit_callbacks):
    response = post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title")

    assert "Send an update" not in response.content.decode()
    assert Event.objects.get(pk=event.pk).title == "A better title"


def test_cancelling_and_publishing_again_in_the_admin_say_who_is_told(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    cancelled = post_change(admin_client, event, django_capture_on_commit_callbacks, status="cancelled")
    assert "The talk is cancelled: its 2 registrants are told by email." in cancelled.content.decode()
    assert all(m["Subject"].startswith("Talk cancelled:") for m in sent())
    mail.outbox.clear()

    post_change(admin_client, Event.objects.get(pk=event.pk), django_capture_on_commit_callbacks, status="draft")
    on_again = post_change(
        admin_client, Event.objects.get(pk=event.pk), django_capture_on_commit_callbacks, status="published"
    )

    assert "The talk is on again: its 2 registrants are told by email." in on_again.content.decode()
    assert sorted(m["Subject"].split(":")[0] for m in sent()) == ["On again", "On again"]


# One save that moves a talk and changes its stream link: one email per registrant

OLD_LINK = "https://utexas.zoom.us/j/111?pwd=Old"
NEW_LINK = "https://utexas.zoom.us/j/222?pwd=New"


@pytest.fixture
def hybrid_registrants(make_event, sign_up, django_capture_on_commit_callbacks):
    talk = make_event(attendance_mode="hybrid", stream_url=OLD_LINK, slug="hybrid-talk")
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(talk, email="room@example.edu", attendance="in_person")
        sign_up(talk, email="online@example.edu", attendance="online")
    mail.outbox.clear()
    return talk


def readable(message) -> str:
    """Every text a person or a calendar reads in `message` (bodies, invite, attached .ics), decoded."""
    parts = [part for part in message.walk() if not part.is_multipart()]
    return "\n".join(
        part.get_content() if part.get_content_maintype() == "text" else part.get_content().decode()
        for part in parts
        if part.get_content_maintype() == "text" or part.get_content_type() == "application/ics"
    )


def by_recipient(messages):
    found = {}
    for message in messages:
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return found


def test_a_new_time_and_a_new_link_saved_together_are_one_email_each_at_the_next_sequence(
    admin_client, hybrid_registrants, django_capture_on_commit_callbacks
):
    talk = hybrid_registrants
    later = talk.start + datetime.timedelta(hours=2)
    post_change(
        admin_client,
        talk,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        attendance_mode="hybrid",
        stream_url=NEW_LINK,
        send_update="yes",
    )

    received = by_recipient(sent())
    assert sorted(received) == ["online@example.edu", "room@example.edu"]
    assert [len(messages) for messages in received.values()] == [1, 1]
    (online,), (room,) = received["online@example.edu"], received["room@example.edu"]
    for message in (online, room):
        assert message["Subject"].startswith("Updated time or place:")
        _calendar, vevent, _part = invite(message)
        assert vevent["SEQUENCE"] == 1
        assert vevent["DTSTART"].dt == later.replace(microsecond=0)
    _calendar, vevent, _part = invite(online)
    assert str(vevent["LOCATION"]) == str(vevent["URL"]) == NEW_LINK
    assert "The link to join this talk online has changed. The new one:" in text_body(online)
    assert NEW_LINK in text_body(online) and NEW_LINK.replace("&", "&amp;") in html_body(online)
    assert OLD_LINK not in readable(online)
    assert "zoom.us" not in readable(room) and "pwd=" not in readable(room)
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [1, 1]


def test_a_new_link_saved_with_a_new_time_kept_from_calendars_goes_alone_to_online_registrants(
    admin_client, hybrid_registrants, django_capture_on_commit_callbacks
):
    talk = hybrid_registrants
    later = talk.start + datetime.timedelta(hours=2)
    post_change(
        admin_client,
        talk,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        attendance_mode="hybrid",
        stream_url=NEW_LINK,
        send_update="no",
    )

    (message,) = sent()
    assert message["To"].addresses[0].addr_spec == "online@example.edu"
    assert message["Subject"].startswith("New link to join online:")
    _calendar, vevent, _part = invite(message)
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["URL"]) == NEW_LINK

import datetime
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event, Question, Venue
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Registration, RegistrationLog
from tests.admin_forms import event_form_data, inline_management_data
from tests.html import change_form, page_text
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


def test_the_talk_page_writes_when_people_registered_and_came_and_its_record_with_the_zone(
    admin_client, make_event, sign_up
):
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    talk = make_event(venue=madrid)
    winter = datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC)
    summer = datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC)
    Registration.objects.filter(pk=sign_up(talk, name="Ana").pk).update(created_at=summer)
    Registration.objects.filter(pk=sign_up(talk, name="Bo").pk).update(
        created_at=winter, checked_in_at=winter + datetime.timedelta(hours=6)
    )
    Event.objects.filter(pk=talk.pk).update(created_at=summer)

    page = change_form(admin_client.get(f"/admin/events/event/{talk.pk}/change/").content.decode())

    registrations = page.tables["registrations-group"]
    assert (registrations.headings["created_at"], registrations.headings["checked_in_at"]) == (
        "Registered",
        "Checked in",
    )
    assert registrations.column("name") == ["Ana", "Bo"]
    # As in the registrations' list: on the site's clock, whatever the talk's.
    assert registrations.column("created_at") == ["Wed 1 Jul 2026, 11:00 AM CDT", "Tue 15 Dec 2026, 11:00 AM CST"]
    assert registrations.column("checked_in_at") == ["-", "Tue 15 Dec 2026, 5:00 PM CST"]
    assert page.fields["created_at"] == "Wed 1 Jul 2026, 11:00 AM CDT"
    assert page.fields["updated_at"].endswith((" CST", " CDT"))


def test_staff_who_may_only_view_a_talk_read_its_times_on_its_clock(client, make_team_member, series, make_event):
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    start = datetime.datetime(2026, 12, 16, 17, 0, tzinfo=datetime.UTC)
    talk = make_event(venue=madrid, start=start, registration_opens=start - datetime.timedelta(days=7))
    viewer = make_team_member(series, "viewer")
    viewer.groups.clear()  # on the team, but allowed only to look at its talks
    viewer.user_permissions.add(Permission.objects.get(codename="view_event"))
    client.force_login(viewer)

    page = change_form(client.get(f"/admin/events/event/{talk.pk}/change/").content.decode())

    assert page.fields["start"] == "Wed 16 Dec 2026, 6:00 PM CET"
    assert page.fields["end"] == "Wed 16 Dec 2026, 7:00 PM CET"
    assert page.fields["registration_opens"] == "Wed 9 Dec 2026, 6:00 PM CET"
    assert page.fields["registration_closes"] == "-"
    assert page.fields["created_at"].endswith((" CST", " CDT"))  # the record's own: the site's clock


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
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = admin_client.post(cancel_url(event), {"note": "The speaker is ill."}, follow=True)
    assert "The talk is cancelled: its 2 registrants are told by email." in cancelled.content.decode()
    assert all(m["Subject"].startswith("Talk cancelled:") for m in sent())
    mail.outbox.clear()

    post_change(admin_client, Event.objects.get(pk=event.pk), django_capture_on_commit_callbacks, status="draft")
    on_again = post_change(
        admin_client, Event.objects.get(pk=event.pk), django_capture_on_commit_callbacks, status="published"
    )

    assert "The talk is on again: its 2 registrants are told by email." in on_again.content.decode()
    messages = sent()
    assert sorted(m["Subject"].split(":")[0] for m in messages) == ["On again", "On again"]
    # The reason went with the cancellation: the talk that is on says nothing of it, nor does its email.
    assert Event.objects.get(pk=event.pk).cancellation_note == ""
    assert not any("The speaker is ill." in text_body(m) + html_body(m) for m in messages)


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


def move_with_new_link(admin_client, talk, capture, *, send_update, **fields):
    """Save `talk` two hours later with NEW_LINK in one admin save, answering `send_update`; (new start, response)."""
    later = talk.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        talk,
        capture,
        start=later,
        end=later + datetime.timedelta(hours=1),
        attendance_mode="hybrid",
        stream_url=NEW_LINK,
        send_update=send_update,
        **fields,
    )
    return later, response


def test_a_new_time_and_a_new_link_saved_together_are_one_email_each_at_the_next_sequence(
    admin_client, hybrid_registrants, django_capture_on_commit_callbacks
):
    talk = hybrid_registrants
    later, _response = move_with_new_link(admin_client, talk, django_capture_on_commit_callbacks, send_update="yes")

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
    _later, response = move_with_new_link(admin_client, talk, django_capture_on_commit_callbacks, send_update="no")

    assert "No update was sent; the 1 registrant attending online is sent the new link." in response.content.decode()
    assert "calendars show the talk as before" not in response.content.decode()
    (message,) = sent()
    assert message["To"].addresses[0].addr_spec == "online@example.edu"
    assert message["Subject"].startswith("New link to join online:")
    _calendar, vevent, _part = invite(message)
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["URL"]) == NEW_LINK
    # In the history of the one who got it, with who changed the link; nothing in the other's.
    online = Registration.objects.get(email="online@example.edu")
    history = admin_client.get(f"/admin/registrations/registration/{online.pk}/history/").content.decode()
    assert "Link to join online sent" in history and "A new link, replacing the earlier one." in history
    (entry,) = online.log.filter(action=RegistrationLog.Action.STREAM_LINK_SENT)
    assert entry.actor.username == "admin"
    assert not RegistrationLog.objects.filter(
        registration__email="room@example.edu", action=RegistrationLog.Action.STREAM_LINK_SENT
    ).exists()


def test_a_new_link_not_shown_yet_saved_with_a_new_time_kept_from_calendars_sends_nothing(
    admin_client, hybrid_registrants, django_capture_on_commit_callbacks
):
    talk = hybrid_registrants
    Event.objects.filter(pk=talk.pk).update(stream_reveal_minutes=15)  # the link shows 15 minutes before the start
    talk.refresh_from_db()
    _later, response = move_with_new_link(
        admin_client, talk, django_capture_on_commit_callbacks, send_update="no", stream_reveal_minutes=15
    )

    assert "No update was sent: registrants' calendars show the talk as before." in page_text(response)
    assert mail.outbox == []
    assert not RegistrationLog.objects.filter(action=RegistrationLog.Action.STREAM_LINK_SENT).exists()


# "Cancel this talk…": asked first, then done once


def cancel_url(event):
    return f"/admin/events/event/{event.pk}/cancel/"


def cancel(admin_client, event, capture, note=""):
    with capture(execute=True):
        return admin_client.post(cancel_url(event), {"note": note}, follow=True)


def test_the_change_page_leads_to_cancelling_instead_of_offering_cancelled_as_a_status(admin_client, event):
    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()

    assert f'<a href="{cancel_url(event)}">Cancel this talk…</a>' in page
    assert 'value="published"' in page and 'value="cancelled"' not in page
    assert 'name="cancellation_note"' not in page


def test_a_cancelled_status_posted_in_the_change_form_is_refused(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    response = post_change(admin_client, event, django_capture_on_commit_callbacks, status="cancelled")

    assert "Select a valid choice. cancelled is not one of the available choices." in response.content.decode()
    assert Event.objects.get(pk=event.pk).status == Event.Status.PUBLISHED
    assert mail.outbox == []


def test_the_confirmation_says_how_many_are_emailed_and_changes_nothing(admin_client, make_event, sign_up):
    event = make_event(capacity=3)
    sign_up(event)
    sign_up(event)
    Event.objects.filter(pk=event.pk).update(confirm_by_email=True)
    held = sign_up(Event.objects.get(pk=event.pk))
    Event.objects.filter(pk=event.pk).update(confirm_by_email=False)
    waiting = sign_up(Event.objects.get(pk=event.pk))
    assert (held.status, waiting.status) == ("held", "waitlisted")
    mail.outbox.clear()
    mails = OutgoingMail.objects.count()

    response = admin_client.get(cancel_url(event))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Cancel “Generating a Video: Reflecting on a Two-Year Odyssey”" in page
    assert "3 registrants with a seat (confirmed: 2, held until they confirm: 1) will be emailed" in page
    assert "1 person on the waiting list will be emailed too." in page
    assert "whoever was told it is cancelled is told it is on again" in page
    assert 'name="note"' in page and 'maxlength="2000"' in page
    assert 'value="Yes, cancel the talk"' in page and f'href="/admin/events/event/{event.pk}/change/"' in page
    assert Event.objects.get(pk=event.pk).status == Event.Status.PUBLISHED
    assert (mail.outbox, OutgoingMail.objects.count()) == ([], mails)


def test_confirming_cancels_and_emails_everyone_once_with_the_reason(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    note = "The speaker is ill; we will reschedule in spring.\r\nWatch this page for the new date."

    response = cancel(admin_client, event, django_capture_on_commit_callbacks, note)

    assert response.redirect_chain == [(f"/admin/events/event/{event.pk}/change/", 302)]
    assert "The talk is cancelled: its 2 registrants are told by email." in response.content.decode()
    cancelled = Event.objects.get(pk=event.pk)
    assert cancelled.status == Event.Status.CANCELLED
    assert (
        cancelled.cancellation_note
        == "The speaker is ill; we will reschedule in spring.\nWatch this page for the new date."
    )
    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ana@example.edu", "bo@example.edu"]
    for message in messages:
        assert message["Subject"].startswith("Talk cancelled:")
        assert (
            "The organizers write:\nThe speaker is ill; we will reschedule in spring.\n"
            "Watch this page for the new date.\n"
        ) in text_body(message)
        assert (
            "The speaker is ill; we will reschedule in spring.<br>Watch this page for the new date.</blockquote>"
            in html_body(message)
        )
        assert str(invite(message)[1]["STATUS"]) == "CANCELLED"
    assert LogEntry.objects.get(object_id=str(event.pk)).get_change_message() == "Cancelled the talk."
    mail.outbox.clear()

    again = cancel(admin_client, cancelled, django_capture_on_commit_callbacks, "Pressed twice.")

    assert "This talk is cancelled already." in again.content.decode()
    assert mail.outbox == []
    assert OutgoingMail.objects.filter(kind="registrations.event_cancelled").count() == 2
    assert Event.objects.get(pk=event.pk).cancellation_note.startswith("The speaker is ill")


def test_the_reason_is_escaped_in_the_html_email_and_kept_as_written_in_the_text(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    note = "Zoë Ñúñez can’t come <script>alert('x')</script> & we’re sorry."

    cancel(admin_client, event, django_capture_on_commit_callbacks, note)

    message = sent()[0]
    html = html_body(message)
    assert "Zoë Ñúñez can’t come &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; we’re sorry." in html
    assert "<script>" not in html
    assert note in text_body(message)


def test_a_reason_of_10_kb_is_refused_with_a_clear_message_and_nothing_changes(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    mails = OutgoingMail.objects.count()

    response = cancel(admin_client, event, django_capture_on_commit_callbacks, "x" * 10240)

    assert response.status_code == 200
    assert "The message can be at most 2000 characters long (this one has 10240)." in response.content.decode()
    assert Event.objects.get(pk=event.pk).status == Event.Status.PUBLISHED
    assert (mail.outbox, OutgoingMail.objects.count()) == ([], mails)


def test_a_talk_without_registrants_is_still_confirmed_and_nobody_is_emailed(
    admin_client, event, django_capture_on_commit_callbacks
):
    asked = admin_client.get(cancel_url(event)).content.decode()
    assert "Nobody is registered for this talk: nobody will be emailed." in asked

    done = cancel(admin_client, event, django_capture_on_commit_callbacks)

    assert "The talk is cancelled." in done.content.decode()
    assert Event.objects.get(pk=event.pk).status == Event.Status.CANCELLED
    assert mail.outbox == []


def test_cancelling_needs_the_csrf_token_of_the_confirmation_page(
    event, two_registrants, admin_user, django_capture_on_commit_callbacks
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    asked = browser.get(cancel_url(event))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', asked.content.decode()).group(1)

    with django_capture_on_commit_callbacks(execute=True):
        forged = browser.post(cancel_url(event), {"note": "Forged."})
    assert forged.status_code == 403
    assert Event.objects.get(pk=event.pk).status == Event.Status.PUBLISHED
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = browser.post(cancel_url(event), {"note": "", "csrfmiddlewaretoken": token})
    assert confirmed.status_code == 302
    assert Event.objects.get(pk=event.pk).status == Event.Status.CANCELLED
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"status": Event.Status.DRAFT}, "Only a published talk can be cancelled; this one is a draft."),
        ({"start_in_days": -2}, "This talk has already taken place: it cannot be cancelled."),
    ],
)
def test_drafts_and_past_talks_offer_no_cancelling(admin_client, make_event, fields, refusal):
    days = fields.pop("start_in_days", 14)
    event = make_event(start=timezone.now() + datetime.timedelta(days=days), **fields)

    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    response = admin_client.post(cancel_url(event), {"note": ""}, follow=True)

    assert "Cancel this talk…" not in page
    assert refusal in response.content.decode()
    assert Event.objects.get(pk=event.pk).status == fields.get("status", Event.Status.PUBLISHED)


def test_a_cancelled_talks_note_is_edited_on_its_page_without_emailing_anyone(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    cancel(admin_client, event, django_capture_on_commit_callbacks, "The speaker is ill.")
    mail.outbox.clear()
    cancelled = Event.objects.get(pk=event.pk)
    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert 'name="cancellation_note"' in page and 'value="cancelled"' in page
    assert "Cancel this talk…" not in page

    post_change(
        admin_client,
        cancelled,
        django_capture_on_commit_callbacks,
        cancellation_note="The speaker is ill.\r\nThe new date: April 3.",
    )

    assert Event.objects.get(pk=event.pk).cancellation_note == "The speaker is ill.\nThe new date: April 3."
    assert mail.outbox == []

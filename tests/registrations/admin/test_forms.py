import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from outbox.models import OutgoingMail
from registrations.models import MailKind, Registration, RegistrationLog
from tests.mime import invite, sent
from tests.registrations.admin.changelist import REGISTRATIONS

pytestmark = pytest.mark.django_db


# Editing a registration


def test_editing_a_registration_to_a_taken_address_is_a_form_error(admin_client, event, sign_up):
    sign_up(event, email="ana@ut.edu")
    other = sign_up(event, name="Bob", email="bob@ut.edu")
    data = {"name": "Bob", "email": "ANA@ut.edu", "affiliation": "", "position": ""}
    data |= {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0", "log-MIN_NUM_FORMS": "0", "log-MAX_NUM_FORMS": "0"}

    response = admin_client.post(f"{REGISTRATIONS}{other.pk}/change/", data)

    assert response.status_code == 200
    assert "This email address is already registered for this talk." in response.content.decode()
    other.refresh_from_db()
    assert other.email == "bob@ut.edu"


def test_editing_an_address_to_an_international_domain_stores_it_as_the_services_do(admin_client, event, sign_up):
    sign_up(event, email="ana@xn--bcher-kva.example")
    other = sign_up(event, name="Bob", email="bob@ut.edu")
    data = {"name": "Bob", "affiliation": "", "position": ""}
    for inline in ("answers", "log"):
        data |= {f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"}

    # The same mailbox as Ana's, with its domain as typed: refused.
    response = admin_client.post(f"{REGISTRATIONS}{other.pk}/change/", data | {"email": "Ana@Bücher.example"})
    assert "This email address is already registered for this talk." in response.content.decode()

    response = admin_client.post(f"{REGISTRATIONS}{other.pk}/change/", data | {"email": "bob@bücher.example"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.email == "bob@xn--bcher-kva.example"


@pytest.mark.parametrize("field", ["name", "affiliation"])
def test_editing_a_registration_refuses_line_breaks(admin_client, event, sign_up, field):
    registration = sign_up(event, name="Bob", email="bob@ut.edu", affiliation="UT")
    data = {"name": "Bob", "email": "bob@ut.edu", "affiliation": "UT", "position": ""}
    data |= {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0", "log-MIN_NUM_FORMS": "0", "log-MAX_NUM_FORMS": "0"}
    data[field] = "Bob\r\nBcc: victim@example.com"

    response = admin_client.post(f"{REGISTRATIONS}{registration.pk}/change/", data)

    assert response.status_code == 200
    assert "Please write this on one line, without line breaks or control characters." in response.content.decode()
    registration.refresh_from_db()
    assert (registration.name, registration.affiliation) == ("Bob", "UT")


@pytest.mark.parametrize("field", ["name", "affiliation"])
@pytest.mark.parametrize("value", ["\u202eBob", "Bob\u2066x\u2069", "Bob\x00"])
def test_editing_a_registration_refuses_direction_controls_and_null_characters_with_one_message(
    admin_client, event, sign_up, field, value
):
    registration = sign_up(event, name="Bob", email="bob@ut.edu", affiliation="UT")
    data = {"name": "Bob", "email": "bob@ut.edu", "affiliation": "UT", "position": ""}
    data |= {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0", "log-MIN_NUM_FORMS": "0", "log-MAX_NUM_FORMS": "0"}
    data[field] = value

    response = admin_client.post(f"{REGISTRATIONS}{registration.pk}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [
        "Please write this on one line, without line breaks or control characters."
    ]
    registration.refresh_from_db()
    assert (registration.name, registration.affiliation) == ("Bob", "UT")


# Adding a registration from the admin (through services.register)


ADD = f"{REGISTRATIONS}add/"


def add_data(talk, **overrides):
    return {
        "event": talk.pk,
        "attendance": "in_person",
        "name": "Zoë Ñúñez",
        "email": "zoe@example.edu",
        "affiliation": "",
        "position": "",
    } | overrides


def form_errors(response):
    return response.context["adminform"].form.non_field_errors()


def test_add_form_shows_only_the_registrants_fields(organizer, client, make_event):
    make_event(title="Draft talk", status=Event.Status.DRAFT)

    response = client.get(ADD)

    assert response.status_code == 200
    page = response.content.decode()
    for field in ("event", "attendance", "name", "email", "affiliation", "position"):
        assert f'name="{field}"' in page
    for field in ("status", "key", "created_at", "checked_in_at", "erased_at"):
        assert f'name="{field}"' not in page
    assert "Draft talk" in page and "(Draft)" in page


def test_organizer_adds_a_registration_and_gets_a_seat(
    organizer, client, make_event, django_capture_on_commit_callbacks
):
    event = make_event(capacity=2, title="Seminar talk")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD,
            add_data(event, name="  王小明  ", email=" Wang@Example.edu ", affiliation="UT Austin", position="postdoc"),
            follow=True,
        )

    assert response.status_code == 200
    assert "王小明 has a seat; the confirmation email is on its way." in response.content.decode()
    registration = Registration.objects.get(event=event)
    assert (registration.name, registration.email, registration.affiliation, registration.position) == (
        "王小明",
        "Wang@Example.edu",
        "UT Austin",
        "postdoc",
    )
    assert registration.status == Registration.Status.CONFIRMED
    event.refresh_from_db()
    assert event.seats_taken == 1
    entry = RegistrationLog.objects.get(registration=registration)
    assert (entry.action, entry.actor) == (RegistrationLog.Action.REGISTERED, organizer)
    outgoing = OutgoingMail.objects.get(registration=registration)
    assert (outgoing.kind, outgoing.status) == (MailKind.CONFIRMATION, OutgoingMail.Status.SENT)
    [message] = sent()
    assert message["To"].addresses[0].display_name == "王小明"
    assert message["To"].addresses[0].addr_spec == "Wang@Example.edu"
    _, vevent, _ = invite(message)
    assert vevent["SUMMARY"] == "Seminar talk"


def test_organizer_adding_to_a_full_talk_puts_the_person_on_the_waiting_list(organizer, client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)

    response = client.post(ADD, add_data(event), follow=True)

    assert "The talk is full: Zoë Ñúñez is number 2 on the waiting list" in response.content.decode()
    registration = Registration.objects.get(email="zoe@example.edu")
    assert registration.status == Registration.Status.WAITLISTED
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (1, 1)
    assert RegistrationLog.objects.get(registration=registration).actor == organizer
    assert OutgoingMail.objects.get(registration=registration).kind == MailKind.WAITLISTED


def test_full_talk_without_waiting_list_is_a_form_error_and_writes_nothing(organizer, client, make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)
    before = (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count())

    response = client.post(ADD, add_data(event))

    assert response.status_code == 200
    assert form_errors(response) == ["Sorry, this talk is full."]
    assert "Sorry, this talk is full." in response.content.decode()
    assert (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count()) == before
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": Event.Status.DRAFT}, "Registration is not open: this talk has not been published yet."),
        ({"status": Event.Status.CANCELLED}, "This talk was cancelled, so registration is closed."),
        (
            {
                "start": timezone.now() - datetime.timedelta(hours=1),
                "end": timezone.now() + datetime.timedelta(hours=1),
            },
            "Registration is closed: this talk has already started.",
        ),
    ],
)
def test_talks_the_service_refuses_are_form_errors(organizer, client, make_event, fields, message):
    event = make_event(**fields)

    response = client.post(ADD, add_data(event))

    assert response.status_code == 200
    assert form_errors(response) == [message]
    assert not Registration.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_address_already_registered_in_other_case_is_a_form_error_without_resend(
    organizer, client, make_event, sign_up
):
    event = make_event()
    existing = sign_up(event, name="Ana", email="ana@ut.edu")
    # Long enough ago that registering again on the talk page would resend the confirmation.
    OutgoingMail.objects.filter(registration=existing).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    before = (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count())

    response = client.post(ADD, add_data(event, name="Ana again", email=" ANA@UT.edu"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This email address is already registered for this talk" in page
    assert f'<a href="{REGISTRATIONS}{existing.pk}/change/">Ana</a>, confirmed' in page
    assert (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count()) == before
    assert not mail.outbox


def test_same_address_for_another_talk_is_fine(organizer, client, make_event, sign_up):
    sign_up(make_event(), email="ana@ut.edu")
    other = make_event(title="Other talk")

    assert client.post(ADD, add_data(other, email="ana@ut.edu")).status_code == 302

    assert Registration.objects.filter(email="ana@ut.edu").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "Ana\r\nBcc: victim@example.com"}, "name"),
        ({"affiliation": "Lab\nX-Header: 1"}, "affiliation"),
        ({"name": "\u200b \ufeff"}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"email": "ana@example.com\r\nBcc: victim@example.com"}, "email"),
        ({"position": "president"}, "position"),
        ({"event": "999999"}, "event"),
        ({"event": "'; DROP TABLE"}, "event"),
    ],
)
def test_hostile_input_is_a_form_error(organizer, client, event, overrides, field):
    response = client.post(ADD, add_data(event, **overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Registration.objects.exists()


def test_script_in_name_is_stored_as_text_and_escaped(organizer, client, event):
    client.post(ADD, add_data(event, name="<script>alert(1)</script>"))
    registration = Registration.objects.get()

    page = client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert registration.name == "<script>alert(1)</script>"
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_double_submitted_add_form_registers_once(organizer, client, event):
    first = client.post(ADD, add_data(event))
    second = client.post(ADD, add_data(event))

    assert first.status_code == 302
    assert second.status_code == 200
    assert "already registered" in str(form_errors(second))
    assert Registration.objects.count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_change_form_of_an_existing_registration_is_unchanged(organizer, client, event, sign_up):
    registration = sign_up(event)

    page = client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert 'name="event"' not in page and 'name="status"' not in page
    assert 'name="name"' in page
    assert "Registered (confirmed)" in page  # the history inline


def test_adding_needs_the_add_permission(client, event):
    clerk = get_user_model().objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_registration", "change_registration"]))
    client.force_login(clerk)

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(event)).status_code == 403
    assert not Registration.objects.exists()


def test_add_form_query_count_does_not_depend_on_the_number_of_talks(
    organizer, client, make_event, django_assert_num_queries
):
    make_event()
    client.get(ADD)  # fills the content type cache, which other tests may or may not have filled
    with CaptureQueriesContext(connection) as one:
        client.get(ADD)
    for _ in range(9):
        make_event()

    with django_assert_num_queries(len(one)):
        response = client.get(ADD)

    assert response.status_code == 200
    # Session, user, its permissions (own and group's), the talks.
    assert len(one) == 5

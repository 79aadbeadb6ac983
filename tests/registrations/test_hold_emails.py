"""The messages of held and offered seats, read back as a mail client would: no invite until the seat
is theirs, the deadline in their language on the venue's clock, links that open the right page."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone, translation

from events.models import Venue
from events.when import SHORT, deadline_text, talk_when
from outbox.delivery import deliver
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import MailKind, Registration
from tests.mime import html_body, invite, invite_parts, sent, text_body

pytestmark = pytest.mark.django_db

Status = Registration.Status


def links(text):
    return re.findall(r"https?://\S+", text)


def path_of(url):
    return urlsplit(url).path


@pytest.fixture
def talk(make_event):
    # 3 p.m. in Austin, a week ahead: the hold's deadline falls on another day than the talk.
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=7)
    return make_event(start=start, capacity=1)


def held(event, n=1, **fields):
    return services.register(
        event=event, name=f"Zoë {n}", email=f"zoe{n}@example.edu", signups_from_address=11, **fields
    ).registration


def assert_plain_layout(message):
    # Text and HTML only: no calendar part, no attachment.
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert invite_parts(message) == []


def test_a_held_seat_gets_the_button_and_the_deadline_and_no_invite(talk, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = held(talk)

    (message,) = sent()
    assert_plain_layout(message)
    deadline = registration.hold_until.astimezone(talk.local_time_zone)
    clock = f"{deadline:%-I:%M %p} {deadline.tzname()}"
    by = deadline_text(talk, registration.hold_until, now=timezone.now())
    assert clock in by
    assert message["Subject"] == f"Confirm by {by} to keep your seat: {talk.title} ({talk_when(talk, style=SHORT)})"
    text, html = text_body(message), html_body(message)
    assert "We are keeping a seat for you" in text
    assert "Many people are signing up from the same network as you" in text
    assert f"by {deadline:%A, %B %-d, %Y}, {clock}" in text
    keep, manage = registration.keep_seat_url, registration.manage_url
    assert links(text) == [talk_url(talk), keep, manage, "https://seminars.example.edu"]
    # In HTML the button is a short label, not the address.
    assert f'href="{keep}"' in html and ">Keep my seat</a>" in html
    assert "calendar invite" in text and "invite.ics" not in html

    page = client.get(path_of(keep))
    assert page.status_code == 200
    assert "Keep my seat" in page.content.decode()


def talk_url(event):
    return "https://seminars.example.edu" + event.get_absolute_url()


def test_confirming_sends_the_confirmation_with_the_first_invite(talk, django_capture_on_commit_callbacks):
    registration = held(talk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_hold(registration=registration)

    (message,) = sent()
    assert message["Subject"].startswith(f"Registered: {talk.title}")
    calendar, vevent, part = invite(message)
    assert part.get_param("method") == str(calendar["METHOD"]) == "REQUEST"
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["ATTENDEE"]) == "mailto:zoe1@example.edu"
    assert registration.checkin_url in text_body(message)


def test_a_waiting_list_place_to_confirm_says_its_number(talk, sign_up, django_capture_on_commit_callbacks):
    sign_up(talk)
    with django_capture_on_commit_callbacks(execute=True):
        registration = held(talk)

    (message,) = [m for m in sent() if "zoe1@" in str(m["To"])]
    assert_plain_layout(message)
    assert "to keep your place on the waiting list" in message["Subject"]
    text = text_body(message)
    assert "waiting list at position 1" in text
    assert registration.keep_seat_url in links(text)
    assert ">Keep my place</a>" in html_body(message)


def test_the_held_email_speaks_the_registrants_language_and_the_venues_clock(
    make_event, django_capture_on_commit_callbacks
):
    lisbon = Venue.objects.create(room="Sala 2", default_capacity=10, time_zone="Europe/Lisbon")
    event = make_event(venue=lisbon, start=timezone.now() + datetime.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        registration = held(event, language="es")

    (message,) = sent()
    deadline = registration.hold_until.astimezone(event.local_time_zone)
    zone = deadline.tzname()
    assert zone in ("WET", "WEST")
    with translation.override("es"):
        by = deadline_text(event, registration.hold_until, now=timezone.now())
    assert f"{deadline:%H:%M} {zone}" in by
    # "plazo: …" reads right before a bare time and before a date alike ("antes de" would need "las" or "del").
    assert message["Subject"].startswith(f"Confirma para conservar tu lugar (plazo: {by}): ")
    text = text_body(message)
    assert "Te estamos reservando un lugar en:" in text
    assert f"{deadline:%H:%M} {zone}" in text
    assert ">Conservar mi lugar</a>" in html_body(message)


def test_an_offer_has_take_and_pass_on_links_and_no_invite(
    make_event, sign_up, client, django_capture_on_commit_callbacks
):
    event = make_event(start=timezone.now() + datetime.timedelta(hours=5), capacity=1)
    seated = sign_up(event)
    waiting = sign_up(event, name="Ana", email="ana@example.edu")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=seated)

    (offer,) = [m for m in sent() if "ana@" in str(m["To"])]
    assert_plain_layout(offer)
    waiting.refresh_from_db()
    assert offer["Subject"].startswith("A seat is free for you until ")
    text, html = text_body(offer), html_body(offer)
    assert waiting.keep_seat_url in links(text) and waiting.free_seat_url in links(text)
    assert ">Take the seat</a>" in html and f'href="{waiting.free_seat_url}"' in html
    assert "offered to the next person on the waiting list" in text

    take = client.get(path_of(waiting.keep_seat_url))
    pass_on = client.get(path_of(waiting.free_seat_url))
    assert "Take the seat" in take.content.decode()
    assert "Pass the seat on?" in pass_on.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.HELD  # opening the links changed nothing


def test_the_reminder_offers_to_free_the_seat(make_event, sign_up, client, django_capture_on_commit_callbacks):
    event = make_event(start=timezone.now() + datetime.timedelta(hours=2))
    registration = sign_up(event)
    OutgoingMail.objects.all().delete()
    registration.created_at = timezone.now() - datetime.timedelta(days=3)
    Registration.objects.filter(pk=registration.pk).update(created_at=registration.created_at)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_due_reminders() == 1

    (reminder,) = sent()
    text, html = text_body(reminder), html_body(reminder)
    assert "Can't come? Free your seat for someone on the waiting list" in text
    assert registration.free_seat_url in links(text)
    assert ">Free my seat</a>" in html
    assert registration.checkin_url in text  # the ticket, as before
    page = client.get(path_of(registration.free_seat_url))
    assert page.status_code == 200 and "Free your seat?" in page.content.decode()


def test_registering_again_while_held_sends_the_button_again(talk, django_capture_on_commit_callbacks):
    registration = held(talk)
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=talk, name="Zoë 1", email="ZOE1@example.edu ")

    (message,) = sent()
    assert message["Subject"].startswith("Your registration:")
    assert_plain_layout(message)
    assert registration.keep_seat_url in links(text_body(message))


def test_a_hold_confirmed_or_released_before_its_message_goes_out_is_not_sent(talk, django_capture_on_commit_callbacks):
    registration = held(talk)
    row = OutgoingMail.objects.get(kind=MailKind.HELD)
    services.confirm_hold(registration=registration)

    assert deliver(mail_id=row.pk) == OutgoingMail.Status.SKIPPED
    row.refresh_from_db()
    assert "confirmed or released" in row.last_error

"""A Decline in the registrant's calendar (an iMIP REPLY to RSVP_EMAIL) frees the seat; nothing else does."""

import base64
import json
import logging
from email.message import EmailMessage

import icalendar
import pytest
from django.core import mail

from registrations.invites import invite_uid
from registrations.models import Registration
from tests.mime import invite, sent

URL = "/anymail/postmark/inbound/"
SECRET = "hook:s3cret"


@pytest.fixture
def inbound(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.RSVP_EMAIL = "rsvp@seminars.example.edu"


@pytest.fixture
def full_talk(make_event, sign_up, django_capture_on_commit_callbacks):
    event = make_event(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        holder = sign_up(event, name="Ana", email="Ana@Example.edu")
        waiting = sign_up(event, name="Bo", email="bo@example.edu")
    mail.outbox.clear()
    return holder, waiting


def reply_ics(*, uid, attendee, partstat="DECLINED", method="REPLY") -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Google Inc//Google Calendar 70.9054//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("sequence", 0)
    vevent.add("summary", "Declined: a talk")
    who = icalendar.vCalAddress(f"mailto:{attendee}")
    who.params["partstat"] = partstat
    vevent.add("attendee", who)
    calendar.add_component(vevent)
    return calendar.to_ical()


def reply_email(*, sender, ics: bytes, to="rsvp@seminars.example.edu") -> bytes:
    """A reply the way calendar services send it: text, plus a text/calendar; method=REPLY alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Declined: a talk"
    message.set_content("Ana has declined this invitation.")
    message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()


def post(client, raw: bytes, credentials=SECRET):
    body = {"RawEmail": raw.decode(), "MessageID": "22c74902-a0c1-4511-804f-341342852c90", "Headers": []}
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()} if credentials else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_invites_ask_for_replies_at_the_rsvp_address(inbound, event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ana@example.edu")
    _calendar, vevent, _part = invite(sent()[0])
    assert str(vevent["ORGANIZER"]) == "mailto:rsvp@seminars.example.edu"
    assert vevent["ORGANIZER"].params["CN"] == "IFML Organizers"
    assert vevent["ATTENDEE"].params["RSVP"] == "TRUE"


def test_without_inbound_the_organizer_is_the_series_contact(event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event, email="ana@example.edu")
    _calendar, vevent, _part = invite(sent()[0])
    assert str(vevent["ORGANIZER"]) == "mailto:ifml-seminar@example.edu"
    assert vevent["ATTENDEE"].params["RSVP"] == "FALSE"


def test_a_decline_cancels_the_registration_and_promotes_the_next(
    client, inbound, full_talk, django_capture_on_commit_callbacks
):
    holder, waiting = full_talk
    raw = reply_email(sender="Ana <ana@example.edu>", ics=reply_ics(uid=invite_uid(holder), attendee="ana@EXAMPLE.edu"))

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, raw).status_code == 200

    holder.refresh_from_db()
    assert holder.status == Registration.Status.CANCELLED
    assert holder.log.last().note == "Declined in their calendar."
    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.CONFIRMED
    by_address = {m["To"].addresses[0].addr_spec.lower(): m for m in sent()}
    assert by_address["ana@example.edu"]["Subject"].startswith("Registration cancelled:")
    calendar, vevent, _part = invite(by_address["ana@example.edu"])
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(vevent["UID"]) == invite_uid(holder)
    assert by_address["bo@example.edu"]["Subject"].startswith("A seat opened up")


def test_a_decline_from_an_international_domain_is_matched_in_either_spelling(
    client, inbound, event, sign_up, django_capture_on_commit_callbacks
):
    registration = sign_up(event, name="Zoë", email="zoe@例え.jp")
    assert registration.email == "zoe@xn--r8jz45g.jp"
    # The calendar writes the domain as typed; the mail system sends from its ASCII spelling.
    raw = reply_email(
        sender="Zoë <zoe@xn--r8jz45g.jp>", ics=reply_ics(uid=invite_uid(registration), attendee="Zoe@例え.JP")
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, raw).status_code == 200

    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED


@pytest.mark.parametrize(
    ("case", "sender", "attendee", "partstat", "uid"),
    [
        (
            "forged uid",
            "ana@example.edu",
            "ana@example.edu",
            "DECLINED",
            "registration-notarealkey123@seminars.example.edu",
        ),
        ("other sender", "mallory@evil.example", "ana@example.edu", "DECLINED", None),
        ("other attendee", "ana@example.edu", "bo@example.edu", "DECLINED", None),
        ("accepted", "ana@example.edu", "ana@example.edu", "ACCEPTED", None),
        ("tentative", "ana@example.edu", "ana@example.edu", "TENTATIVE", None),
    ],
)
def test_anything_but_the_registrants_own_decline_changes_nothing(
    client, inbound, full_talk, caplog, case, sender, attendee, partstat, uid
):
    holder, waiting = full_talk
    raw = reply_email(sender=sender, ics=reply_ics(uid=uid or invite_uid(holder), attendee=attendee, partstat=partstat))

    with caplog.at_level(logging.INFO, logger="registrations.replies"):
        assert post(client, raw).status_code == 200

    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CONFIRMED
    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.WAITLISTED
    assert mail.outbox == []
    assert caplog.records, "the refusal is logged"


@pytest.mark.parametrize(
    "ics",
    [b"this is not a calendar", b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x", b""],
    ids=["text", "truncated", "empty"],
)
def test_garbage_changes_nothing(client, inbound, full_talk, caplog, ics):
    holder, _ = full_talk
    with caplog.at_level(logging.INFO, logger="registrations.replies"):
        assert post(client, reply_email(sender="ana@example.edu", ics=ics)).status_code == 200

    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CONFIRMED
    assert caplog.records


def test_a_request_not_a_reply_changes_nothing(client, inbound, full_talk):
    holder, _ = full_talk
    ics = reply_ics(uid=invite_uid(holder), attendee="ana@example.edu", method="REQUEST")
    post(client, reply_email(sender="ana@example.edu", ics=ics))

    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CONFIRMED


@pytest.mark.parametrize("credentials", [None, "hook:wrong"])
def test_the_inbound_webhook_wants_the_secret(client, inbound, full_talk, credentials):
    holder, _ = full_talk
    raw = reply_email(sender="ana@example.edu", ics=reply_ics(uid=invite_uid(holder), attendee="ana@example.edu"))

    assert post(client, raw, credentials=credentials).status_code == 400
    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CONFIRMED


def test_without_a_configured_secret_nothing_is_read(client, settings, full_talk):
    from anymail.exceptions import AnymailInsecureWebhookWarning

    settings.ANYMAIL = {}
    settings.RSVP_EMAIL = "rsvp@seminars.example.edu"
    holder, _ = full_talk
    raw = reply_email(sender="ana@example.edu", ics=reply_ics(uid=invite_uid(holder), attendee="ana@example.edu"))

    with pytest.warns(AnymailInsecureWebhookWarning):
        post(client, raw, credentials=None)

    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CONFIRMED


def test_a_decline_in_the_postmark_attachment_form_works_too(
    client, inbound, full_talk, django_capture_on_commit_callbacks
):
    holder, _ = full_talk
    ics = reply_ics(uid=invite_uid(holder), attendee="ana@example.edu")
    body = {
        "FromFull": {"Email": "ana@example.edu", "Name": "Ana"},
        "ToFull": [{"Email": "rsvp@seminars.example.edu", "Name": ""}],
        "Subject": "Declined: a talk",
        "TextBody": "Ana has declined.",
        "Attachments": [
            {
                "Name": "invite.ics",
                "Content": base64.b64encode(ics).decode(),
                "ContentType": "text/calendar; method=REPLY",
            }
        ],
        "Headers": [],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
        )

    assert response.status_code == 200
    assert Registration.objects.get(pk=holder.pk).status == Registration.Status.CANCELLED

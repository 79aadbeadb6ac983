"""Every message of every kind, parsed: the MIME tree, METHOD, CRLF, and what each provider gets."""

import base64
import email
import email.policy
import json
import warnings

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from outbox import registry
from registrations.models import MailKind, Registration

INVITE_TREE = [
    "multipart/mixed",
    "  multipart/alternative",
    "    text/plain",
    "    text/html",
    "    text/calendar",
    "  application/ics",
]
PLAIN_TREE = ["multipart/alternative", "  text/plain", "  text/html"]
# Messages that say "you have a seat" carry the check-in QR code, inline in the HTML (registrations.tickets).
INVITE_TICKET_TREE = [
    "multipart/mixed",
    "  multipart/alternative",
    "    text/plain",
    "    multipart/related",
    "      text/html",
    "      image/png",
    "    text/calendar",
    "  application/ics",
]
PLAIN_TICKET_TREE = ["multipart/alternative", "  text/plain", "  multipart/related", "    text/html", "    image/png"]
TICKET_KINDS = {MailKind.CONFIRMATION, MailKind.PROMOTED, MailKind.RESEND, MailKind.REMINDER}


def expected_tree(kind, method):
    if kind in TICKET_KINDS:
        return PLAIN_TICKET_TREE if method is None else INVITE_TICKET_TREE
    return PLAIN_TREE if method is None else INVITE_TREE


# kind: (registration status, queued data, METHOD or None)
KINDS = {
    MailKind.CONFIRMATION: ("confirmed", {}, "REQUEST"),
    MailKind.PROMOTED: ("confirmed", {}, "REQUEST"),
    MailKind.EVENT_CHANGED: ("confirmed", {"changed": ["start"]}, "REQUEST"),
    MailKind.RESEND: ("confirmed", {}, "REQUEST"),
    MailKind.REMINDER: ("confirmed", {}, None),
    MailKind.WAITLISTED: ("waitlisted", {}, None),
    MailKind.CANCELLATION: ("cancelled", {"cancels_invite": True}, "CANCEL"),
    MailKind.EVENT_CANCELLED: ("confirmed", {"cancels_invite": True}, "CANCEL"),
}


def tree(part, depth=0):
    lines = ["  " * depth + part.get_content_type()]
    for child in part.iter_parts() if part.is_multipart() else []:
        lines += tree(child, depth + 1)
    return lines


def only_crlf(data: bytes) -> bool:
    return data.count(b"\n") == data.count(b"\r\n") > 5


def build(event, outbox_row, kind):
    status, data, method = KINDS[kind]
    registration = Registration.objects.create(
        event=event,
        name="Zoë Ñúñez",
        email="zoe@example.edu",
        status=status,
        cancelled_at=timezone.now() if status == "cancelled" else None,
    )
    row = outbox_row(registration, kind, data=data, reminder_for=event.start if kind == MailKind.REMINDER else None)
    return registry.get_kind(kind).build(row), method


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_the_layout_and_method_of_its_invite(event, outbox_row, kind):
    message, method = build(event, outbox_row, kind)
    parsed = email.message_from_bytes(message.message(policy=email.policy.SMTP).as_bytes(), policy=email.policy.default)

    assert tree(parsed) == expected_tree(kind, method)
    if method is None:
        return
    alternative, attachment = parsed.iter_parts()
    calendar_part = list(alternative.iter_parts())[-1]
    ics = calendar_part.get_payload(decode=True)
    assert calendar_part.get_param("method") == str(icalendar.Calendar.from_ical(ics)["METHOD"]) == method
    assert calendar_part.get_content_charset() == "utf-8"
    assert calendar_part.get_content_disposition() is None
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_payload(decode=True) == ics
    assert only_crlf(ics)


def payload_calendars(module, payload) -> tuple[list[bytes], list[str]]:
    """(calendar bytes as the provider gets them, content types that carry them) from a built payload."""
    if module == "amazon_ses":
        payload.finalize_payload()
        raw = email.message_from_bytes(payload.params["Content"]["Raw"]["Data"], policy=email.policy.default)
        parts = [part for part in raw.walk() if part.get_content_type() in ("text/calendar", "application/ics")]
        return [part.get_payload(decode=True) for part in parts], [part["Content-Type"] for part in parts]
    if module == "mailgun":
        files = [file for _field, file in payload.files if file[0] == "invite.ics"]
        return [file[1] for file in files], [file[2] for file in files]
    data = json.loads(payload.serialize_data())
    if module == "sendgrid":
        contents = [c for c in data["content"] if c["type"].startswith("text/calendar")]
        attached = [a for a in data.get("attachments", []) if a["filename"] == "invite.ics"]
        return (
            [c["value"].encode() for c in contents] + [base64.b64decode(a["content"]) for a in attached],
            [c["type"] for c in contents] + [a["type"] for a in attached],
        )
    found = {
        "postmark": lambda: [(a["Content"], a["ContentType"]) for a in data["Attachments"]],
        "sparkpost": lambda: [(a["data"], a["type"]) for a in data["content"]["attachments"]],
        "resend": lambda: [(a["content"], a["content_type"]) for a in data["attachments"]],
        "brevo": lambda: [(a["content"], "(from the file name)") for a in data["attachment"]],
        "mailjet": lambda: [(a["Base64Content"], a["ContentType"]) for a in data["Globals"]["Attachments"]],
    }[module]()
    # The ticket's QR code travels as an attachment too: keep the calendars.
    found = [(base64.b64decode(content), kind) for content, kind in found]
    found = [(data, kind) for data, kind in found if data.startswith(b"BEGIN:VCALENDAR")]
    return [data for data, _ in found], [content_type for _, content_type in found]


BACKENDS = {
    # module: (settings, keeps the text/calendar alternative, the iTIP method reaches the recipient)
    "amazon_ses": (
        {"client_params": {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}},
        True,
        True,
    ),
    "sendgrid": ({"api_key": "x"}, True, True),
    "postmark": ({"server_token": "x"}, False, True),
    "mailgun": ({"api_key": "x", "sender_domain": "example.edu"}, False, True),
    "sparkpost": ({"api_key": "x"}, False, True),
    "resend": ({"api_key": "x"}, False, True),
    "brevo": ({"api_key": "x"}, False, False),
    "mailjet": ({"api_key": "x", "secret_key": "y"}, False, False),
}


@pytest.mark.parametrize("module", list(BACKENDS))
def test_what_each_documented_provider_gets(event, outbox_row, module):
    import importlib

    options, keeps_alternative, keeps_method = BACKENDS[module]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SendGrid's "no longer officially supported"
        backend = importlib.import_module(f"anymail.backends.{module}").EmailBackend(**options)
    message, method = build(event, outbox_row, MailKind.CONFIRMATION)
    message.fit_to_mailer(backend)

    assert message.invite_as_alternative is keeps_alternative
    payload = backend.build_message_payload(message, backend.send_defaults)  # raises for an unsupported part
    calendars, content_types = payload_calendars(module, payload)

    assert calendars, "the invite must reach the provider"
    for ics in calendars:
        assert only_crlf(ics)
        assert str(icalendar.Calendar.from_ical(ics)["METHOD"]) == method
    assert any("method" in content_type.lower() for content_type in content_types) is keeps_method
    assert mail.outbox == []


@pytest.mark.parametrize("kind", sorted(TICKET_KINDS))
def test_a_provider_refusing_inline_images_gets_the_check_in_link_and_no_broken_image(event, outbox_row, kind):
    from anymail.backends.brevo import EmailBackend

    backend = EmailBackend(api_key="x")
    message, _method = build(event, outbox_row, kind)
    registration = Registration.objects.get(email="zoe@example.edu")
    message.fit_to_mailer(backend)

    data = json.loads(backend.build_message_payload(message, backend.send_defaults).serialize_data())
    assert "cid:" not in data["htmlContent"] and "<img" not in data["htmlContent"]
    assert registration.checkin_url in data["htmlContent"]
    assert registration.checkin_url in data["textContent"]
    attached = [base64.b64decode(a["content"]) for a in data.get("attachment", [])]
    assert not [content for content in attached if content.startswith(b"\x89PNG")]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_on_the_smtp_wire(event, outbox_row, smtp_sink, kind):
    from outbox.delivery import deliver

    status, data, method = KINDS[kind]
    registration = Registration.objects.create(
        event=event,
        name="Zoë Ñúñez",
        email="zoe@example.edu",
        status=status,
        cancelled_at=timezone.now() if status == "cancelled" else None,
    )
    row = outbox_row(registration, kind, data=data, reminder_for=event.start if kind == MailKind.REMINDER else None)

    assert deliver(mail_id=row.pk) == "sent"

    ((_sender, recipients, data_bytes),) = smtp_sink
    assert recipients == ["zoe@example.edu"]
    assert data_bytes.count(b"\n") == data_bytes.count(b"\r\n")
    parsed = email.message_from_bytes(data_bytes, policy=email.policy.default)
    assert tree(parsed) == expected_tree(kind, method)
    if method is not None:
        calendar_part = list(next(parsed.iter_parts()).iter_parts())[-1]
        ics = calendar_part.get_payload(decode=True)
        assert only_crlf(ics)
        assert calendar_part.get_param("method") == str(icalendar.Calendar.from_ical(ics)["METHOD"]) == method

"""The MIME layout of what the outbox sends, read back with Python's email parser."""

import base64
import email
import email.policy
import email.utils
import re
from email.header import decode_header, make_header

import icalendar
import pytest
from django.core import mail
from django.core.mail import DEFAULT_MAILER_ALIAS, mailers

from outbox.compose import CalendarInvite, InlineImage, compose, mailbox

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:abc@example.edu\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270120T170000Z\r\nSUMMARY:Zoë's talk\\, part 1\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def message(**kwargs):
    defaults = {
        "to": [mailbox("Zoë Ñúñez", "zoe@example.edu")],
        "subject": "Registered",
        "text": "Hello.",
        "html": "<p>Hello.</p>",
    }
    return compose(**(defaults | kwargs))


def parse(django_message) -> email.message.EmailMessage:
    return email.message_from_bytes(django_message.message().as_bytes(), policy=email.policy.default)


def tree(part, depth=0) -> list[str]:
    lines = ["  " * depth + part.get_content_type()]
    if part.is_multipart():
        for child in part.iter_parts():
            lines += tree(child, depth + 1)
    return lines


def only_crlf(data: bytes) -> bool:
    return data.count(b"\n") == data.count(b"\r\n") > 0


def test_invite_layout_is_the_one_outlook_reads_as_a_meeting():
    parsed = parse(message(invite=CalendarInvite(ics=ICS, method="REQUEST")))

    assert tree(parsed) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    text/html",
        "    text/calendar",
        "  application/ics",
    ]
    alternative, attachment = parsed.iter_parts()
    calendar = list(alternative.iter_parts())[-1]
    assert calendar["Content-Type"] == 'text/calendar; charset="UTF-8"; method="REQUEST"'
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar["Content-Disposition"] is None
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_param("name") == "invite.ics"
    # The same bytes, CRLF line endings and all, in both.
    assert calendar.get_payload(decode=True) == attachment.get_payload(decode=True) == ICS
    assert only_crlf(calendar.get_payload(decode=True))
    assert icalendar.Calendar.from_ical(calendar.get_payload(decode=True))["METHOD"] == "REQUEST"


def test_inline_images_sit_in_multipart_related_beside_the_html():
    image = InlineImage(content=PNG, subtype="png", filename="qr.png")
    parsed = parse(message(html=f'<img src="{image.src}" alt="QR">', images=[image]))

    assert tree(parsed) == [
        "multipart/alternative",
        "  text/plain",
        "  multipart/related",
        "    text/html",
        "    image/png",
    ]
    related = parsed.get_payload()[1]
    html, png = related.iter_parts()
    assert f'src="cid:{image.cid}"' in html.get_content()
    assert png["Content-ID"] == f"<{image.cid}>"
    assert png.get_content() == PNG


def test_inline_images_and_an_invite_together():
    image = InlineImage(content=PNG)
    parsed = parse(message(html=f'<img src="{image.src}">', images=[image], invite=CalendarInvite(ICS, "CANCEL")))

    assert tree(parsed) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    multipart/related",
        "      text/html",
        "      image/png",
        "    text/calendar",
        "  application/ics",
    ]


def brevo_payload(django_message) -> dict:
    import json

    from anymail.backends.brevo import EmailBackend

    backend = EmailBackend(api_key="x")
    django_message.fit_to_mailer(backend)
    return json.loads(backend.build_message_payload(django_message, backend.send_defaults).serialize_data())


def test_a_provider_refusing_inline_images_gets_html_without_a_cid_reference():
    image = InlineImage(content=PNG)
    html = (
        f"<p>Before.</p>{image.begin}<p>Show this code:</p><p><img src='{image.src}' alt='QR'></p>{image.end}"
        f'<p>The link: https://x.example/c/1</p><img alt="again" src="{image.src}">'
    )

    data = brevo_payload(message(html=html, images=[image], invite=CalendarInvite(ICS, "REQUEST")))

    assert "cid:" not in data["htmlContent"]
    assert "Show this code" not in data["htmlContent"] and "<img" not in data["htmlContent"]
    assert "<p>Before.</p>" in data["htmlContent"] and "The link: https://x.example/c/1" in data["htmlContent"]
    assert [base64.b64decode(a["content"])[:15] for a in data["attachment"]] == [b"BEGIN:VCALENDAR"]


def test_without_invite_or_images_it_is_plain_and_html():
    assert tree(parse(message())) == ["multipart/alternative", "  text/plain", "  text/html"]


def test_unknown_itip_method_is_refused():
    with pytest.raises(ValueError):
        CalendarInvite(ics=ICS, method="ADD-ME")


def test_anymail_test_payload_keeps_the_alternative_and_crlf(db):
    django_message = message(invite=CalendarInvite(ics=ICS, method="REQUEST"))
    django_message.fit_to_mailer(mailers[DEFAULT_MAILER_ALIAS])
    mailers[DEFAULT_MAILER_ALIAS].send_messages([django_message])

    (sent_message,) = mail.outbox
    params = sent_message.anymail_test_params
    ((content, mimetype),) = params["alternatives"]
    assert mimetype == "text/calendar; method=REQUEST"
    assert content.encode() == ICS
    (attachment,) = params["attachments"]
    assert attachment.mimetype == "application/ics"
    assert attachment.name == "invite.ics"
    assert attachment.content == ICS
    assert params["html_body"] == "<p>Hello.</p>"


@pytest.mark.parametrize("name", ["", "Zoë", 'Smith, "Zoë" <z@evil.example>', "a\r\nBcc: x@evil.example"])
def test_mailbox_is_always_one_address(name):
    from email.headerregistry import AddressHeader

    parsed = AddressHeader.value_parser(mailbox(name, "anna@münchen.example"))
    (only,) = parsed.all_mailboxes
    assert only.addr_spec == "anna@münchen.example"


def to_field(raw: bytes) -> str:
    """The To header's value as written, folding included."""
    return re.search(rb"^To:(.*?)\r\n(?=\S)", raw, re.MULTILINE | re.DOTALL).group(1).decode().removeprefix(" ")


@pytest.mark.parametrize(
    "name",
    [
        '<img src="/static/img/icon.svg" width="500"><h1>Session expired - sign in again at evil.example</h1>',
        'Backslash \\ and "quotes",  ' + "word " * 30,
        "Zoë Ñúñez-" * 12,
        "王小明 " * 20,
        "=?utf-8?q?Mallory=2C_x=40evil=2Eexample?= " * 3,
    ],
)
def test_a_long_display_name_folds_and_stays_one_address(name):
    django_message = message(to=[mailbox(name, "zoe@example.edu"), mailbox("Ana", "ana@example.edu")])
    raw = django_message.message(policy=email.policy.SMTP).as_bytes()
    field = to_field(raw)

    assert "\r\n " in field
    assert all(len(line) <= 78 for line in f"To: {field}".split("\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [address.addr_spec for address in parsed["To"].addresses] == ["zoe@example.edu", "ana@example.edu"]
    # Unfolded and decoded as RFC 2047 says (white space between two encoded words
    # is dropped; Python's parser keeps it), the name is whole.
    (first, _), second = email.utils.getaddresses([field.replace("\r\n", "")])
    assert str(make_header(decode_header(first))) == " ".join(name.split()).replace("=?", "= ?")
    assert second == ("Ana", "ana@example.edu")


def test_mailbox_refuses_what_is_no_address():
    with pytest.raises(ValueError):
        mailbox("Ana", "not-an-address")

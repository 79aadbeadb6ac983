"""Every address header re-parses to exactly the intended address: hostile and international
names, IDN domains, in To and Reply-To, in what the provider gets, in the .eml file and on the SMTP wire."""

import email
import email.policy
import re
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest
from django.core import mail

from events.models import Series
from outbox.models import OutgoingMail
from registrations.forms import RegistrationForm
from registrations.mail import queue
from registrations.models import MailKind, Registration
from tests.mime import invite

NAMES = [
    "José Smith, PhD",
    "Smith, Zoë",
    "Łukasz Nowak; guest",
    'Anna "Annie" Müller',
    "O'Brien <ob@evil.example>",
    "mallory@evil.example",
    "[Lab] Ng (visiting)",
    "=?utf-8?q?evil=40evil.example?=",
    "王小明",
    "محمد عبد الله",
    "back\\slash",
    "Mallory\r\nBcc: victim@evil.example",
    "x" * 200,
]
ADDRESSES = ["ana@example.edu", "anna@münchen.example", "Ana.Lopez@Sub.Example.EDU"]
ORGANIZER = "Smith, Zoë (IFML); Seminars <no@evil.example>"


def one_line(name):
    return " ".join(name.split()).replace("=?", "= ?")


def idna(address):
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode()}"


def reparse(raw: str) -> list[tuple[str, str]]:
    """The (name, address) pairs of a raw header as RFC 5322 and RFC 2047 read it, like a mail client.

    (Python's own header parser keeps the folding space between two encoded
    words of one name, which RFC 2047 §6.2 says to drop; it still finds the
    same addresses, checked in assert_headers.)
    """
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    return [(str(make_header(decode_header(name))), addr) for name, addr in getaddresses([unfolded])]


def assert_one_address(raw, *, name, address):
    ((display_name, addr_spec),) = reparse(raw)
    assert display_name == one_line(name)
    assert addr_spec in (address, idna(address))


def assert_headers(data: bytes, *, name, address):
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    assert len(raw.get_all("To")) == 1
    assert_one_address(raw["To"], name=name, address=address)
    assert_one_address(raw["Reply-To"], name=ORGANIZER, address="ifml-seminar@example.edu")
    assert raw["Cc"] is None and raw["Bcc"] is None
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] in ([address], [idna(address)])
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["ifml-seminar@example.edu"]


@pytest.fixture
def hostile_organizer(series):
    Series.objects.filter(pk=series.pk).update(organizer_name=ORGANIZER)


def send_confirmation(event, name, address, capture):
    registration = Registration.objects.create(
        event=event, name=name, email=address, status=Registration.Status.CONFIRMED
    )
    with capture(execute=True):
        queue(registration=registration, kind=MailKind.CONFIRMATION)
    assert OutgoingMail.objects.get(registration=registration).status == OutgoingMail.Status.SENT
    return registration


def test_the_form_accepts_an_idn_address():
    form = RegistrationForm({"name": "Anna", "email": "anna@münchen.example", "consent": "on", "position": ""})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("name", NAMES)
def test_provider_payload_and_mime_name_exactly_one_recipient(
    event, hostile_organizer, name, address, django_capture_on_commit_callbacks
):
    send_confirmation(event, name, address, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    (to,) = message.anymail_test_params["to"]
    assert (to.display_name, to.addr_spec) == (one_line(name), address)
    (reply_to,) = message.anymail_test_params["reply_to"]
    assert reply_to.addr_spec == "ifml-seminar@example.edu"
    assert_headers(message.message().as_bytes(), name=name, address=address)


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("name", NAMES[:4] + NAMES[8:12])
def test_on_the_smtp_wire(event, hostile_organizer, smtp_sink, name, address, django_capture_on_commit_callbacks):
    send_confirmation(event, name, address, django_capture_on_commit_callbacks)

    ((sender, recipients, data),) = smtp_sink
    assert recipients == [idna(address)]
    assert sender == "seminars@localhost"
    # Every line of the message ends in CRLF, the calendar's included.
    assert data.count(b"\n") == data.count(b"\r\n")
    assert_headers(data, name=name, address=address)
    _calendar, vevent, part = invite(email.message_from_bytes(data, policy=email.policy.default))
    ics = part.get_payload(decode=True)
    assert ics.count(b"\n") == ics.count(b"\r\n") > 10
    assert str(vevent["ATTENDEE"]).lower() == f"mailto:{address}".lower()


def test_in_the_eml_files_of_development(
    event, hostile_organizer, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "seminar_site.mail.EmlFileBackend", "OPTIONS": {"file_path": tmp_path}}}
    for n, name in enumerate(NAMES[:3]):
        send_confirmation(event, name, f"p{n}@münchen.example", django_capture_on_commit_callbacks)

    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 3
    names = set()
    for path in files:
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n")
        raw = email.message_from_bytes(data, policy=email.policy.compat32)
        ((to_name, _address),) = reparse(raw["To"])
        names.add(to_name)
        assert_one_address(raw["Reply-To"], name=ORGANIZER, address="ifml-seminar@example.edu")
    assert names == {one_line(name) for name in NAMES[:3]}

"""Read what we send the way a mail client and a calendar app would."""

import email
import email.policy

import icalendar
from django.core import mail


def parse(message) -> email.message.EmailMessage:
    """A sent Django message, serialized and parsed back as real MIME."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def sent() -> list[email.message.EmailMessage]:
    return [parse(message) for message in mail.outbox]


def invite_parts(parsed) -> list:
    return [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]


def invite(parsed) -> tuple[icalendar.Calendar, icalendar.Event, object]:
    """(calendar, its one VEVENT, the MIME part) of the single invite in `parsed`."""
    parts = invite_parts(parsed)
    assert len(parts) == 1, f"expected one text/calendar part, found {len(parts)}"
    calendar = icalendar.Calendar.from_ical(parts[0].get_content())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0], parts[0]


def text_body(parsed) -> str:
    return parsed.get_body(preferencelist=("plain",)).get_content()


def html_body(parsed) -> str:
    return parsed.get_body(preferencelist=("html",)).get_content()

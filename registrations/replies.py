"""Calendar replies (iMIP, RFC 6047): a registrant's "Decline" in their calendar frees the seat.

Where the site receives mail (RSVP_EMAIL, delivered to anymail's inbound
webhook, which ANYMAIL_WEBHOOK_SECRET protects like the tracking webhook),
invites name that address as ORGANIZER, so Gmail's, Apple's or Outlook's
Decline button sends its iTIP REPLY here. A reply cancels a registration only
when everything agrees: METHOD:REPLY, the UID of that registration's invite,
the registrant's own address as ATTENDEE with PARTSTAT=DECLINED, and the
message sent from that same address. Anything else (a forged UID, another
address, an acceptance, garbage) changes nothing and is logged.
"""

import logging
import re
from dataclasses import dataclass

import icalendar
from django.utils.translation import gettext as _

from seminar_site.addresses import ascii_address

from . import services
from .invites import rsvp_address
from .models import Registration

logger = logging.getLogger(__name__)

UID = re.compile(r"^registration-(?P<key>[A-Za-z0-9_-]{8,64})@")
CALENDAR_TYPES = ("text/calendar", "application/ics")


@dataclass(frozen=True)
class Reply:
    uid: str
    attendee: str
    partstat: str


def normalized(address: str) -> str:
    """An address compared as delivery does: domain case and IDN spelling do not matter."""
    return ascii_address(re.sub(r"(?i)^mailto:", "", (address or "").strip())).lower()


def calendar_replies(message) -> list[Reply]:
    """Every VEVENT reply found in the calendar parts of `message` (METHOD:REPLY only)."""
    replies = []
    for part in message.walk():
        if part.get_content_type() not in CALENDAR_TYPES:
            continue
        try:
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True) or b"")
        except ValueError:
            logger.warning("Calendar reply ignored: its calendar part does not parse.")
            continue
        if str(calendar.get("METHOD", "")).upper() != "REPLY":
            continue
        for vevent in calendar.walk("VEVENT"):
            attendees = vevent.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees] if attendees else []
            for attendee in attendees:
                replies.append(
                    Reply(
                        uid=str(vevent.get("UID", "")),
                        attendee=str(attendee),
                        partstat=str(attendee.params.get("PARTSTAT", "")).upper(),
                    )
                )
    return replies


def handle_reply_message(message) -> int:
    """Act on the iMIP replies in inbound `message`; return how many registrations were cancelled."""
    if not rsvp_address():
        logger.warning("Inbound mail ignored: RSVP_EMAIL is not set, so invites ask for no replies.")
        return 0
    sender = message.from_email.addr_spec if message.from_email else ""
    replies = calendar_replies(message)
    if not replies:
        logger.info("Inbound mail from %s ignored: no calendar reply in it.", sender or "nobody")
        return 0
    cancelled = 0
    for reply in replies:
        if decline(reply=reply, sender=sender):
            cancelled += 1
    return cancelled


def decline(*, reply: Reply, sender: str) -> bool:
    """Cancel the registration `reply` declines, if it is genuine; log and refuse otherwise."""
    match = UID.match(reply.uid)
    registration = (
        Registration.objects.select_related("event").filter(key=match["key"]).first() if match is not None else None
    )
    if registration is None:
        logger.warning("Calendar reply from %s ignored: no invite has the UID %r.", sender, reply.uid)
        return False
    if reply.partstat != "DECLINED":
        logger.info("Calendar reply %s for registration %s changes nothing.", reply.partstat or "?", registration.pk)
        return False
    expected = normalized(registration.email)
    if normalized(reply.attendee) != expected or normalized(sender) != expected:
        logger.warning(
            "Calendar reply for registration %s ignored: it came from %s for %s, not from the registrant.",
            registration.pk,
            sender,
            reply.attendee,
        )
        return False
    try:
        services.cancel_registration(registration=registration, note=_("Declined in their calendar."))
    except services.RegistrationError as error:
        logger.info("Calendar decline for registration %s changes nothing: %s", registration.pk, error.message)
        return False
    logger.info("Registration %s cancelled: declined in their calendar.", registration.pk)
    return True

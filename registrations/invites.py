"""A registrant's personal calendar invite (METHOD:REQUEST or CANCEL).

The VEVENT itself comes from events.ical; this module adds what belongs to one
registrant: a UID that stays the same across every message they get about the
talk, their own SEQUENCE (Registration.invite_sequence, raised by the outbox for
every invite it sends), and the registrant as ATTENDEE.
"""

import datetime

import icalendar

from events.ical import event_component, new_calendar, single_line, site_host

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def invite_uid(registration) -> str:
    # The key is random and only grants access together with the signature of
    # the manage link, so it can safely name the calendar entry.
    return f"registration-{registration.key}@{site_host()}"


def build_invite(*, registration, method: str, sequence: int, now: datetime.datetime | None = None) -> bytes:
    """The .ics for `registration`: `method` is REQUEST (add or update) or CANCEL."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown invite method {method!r}.")
    event = registration.event
    calendar = new_calendar(method=method)
    vevent = event_component(
        event,
        uid=invite_uid(registration),
        sequence=sequence,
        cancelled=method == CANCEL,
        description_extra=f"Your registration (change or cancel): {registration.manage_url}",
        now=now,
    )
    attendee = icalendar.vCalAddress(f"mailto:{registration.email}")
    attendee.params["cn"] = single_line(registration.name) or registration.email
    attendee.params["role"] = "REQ-PARTICIPANT"
    attendee.params["partstat"] = "ACCEPTED" if method == REQUEST else "DECLINED"
    # Registration happens on the site, not by replying to the invite.
    attendee.params["rsvp"] = "FALSE"
    vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    return calendar.to_ical()

"""A registrant's personal calendar invite (METHOD:REQUEST, CANCEL, or PUBLISH for a download).

The VEVENT itself comes from events.ical; this module adds what belongs to one
registrant. One calendar entry per person per talk: the UID stays the same in
every message they get about the talk and in the file they can download from
their own page. SEQUENCE is Registration.invite_sequence, raised when a change
to the talk is sent to them (services.send_event_update), when they switch
between in person and online (services.switch_attendance) and when their invite
is cancelled; a message that only repeats the invite (a re-send, "Send again",
the download) carries the current number, so it never outranks a real update.

ORGANIZER is the address that receives calendar replies (RSVP_EMAIL) where the
site receives mail (see replies.py), else the series contact.
"""

import datetime

import icalendar
from django.conf import settings
from django.utils.translation import gettext as _

from events.ical import event_component, new_calendar, single_line, site_host
from events.when import moment_text

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def invite_uid(registration) -> str:
    # The key is random and only grants access together with the signature of
    # the manage link, so it can safely name the calendar entry.
    return f"registration-{registration.key}@{site_host()}"


def rsvp_address() -> str:
    """Where calendar replies (Decline) go: RSVP_EMAIL when inbound mail is set up, else ""."""
    return getattr(settings, "RSVP_EMAIL", "")


def build_invite(
    *, registration, method: str, sequence: int | None = None, now: datetime.datetime | None = None
) -> bytes:
    """The .ics for `registration`: REQUEST (add or update), CANCEL, or PUBLISH (a file to import).

    `sequence` defaults to the registrant's current invite SEQUENCE.
    """
    if method not in (REQUEST, CANCEL, PUBLISH):
        raise ValueError(f"Unknown invite method {method!r}.")
    event = registration.event
    rsvp = rsvp_address()
    cancelled = method == CANCEL or (method == PUBLISH and not registration.is_active)
    calendar = new_calendar(method=method)
    extra = _("Your registration (change or cancel): %(url)s") % {"url": registration.manage_url}
    location = link = ""
    if registration.is_online and not cancelled:
        # Their own copy points at the stream, once they may see it; the public calendar never does.
        link = event.stream_url if registration.sees_stream(now) else ""
        location = link or str(_("Online"))
        if link:
            extra = _("Join online: %(link)s") % {"link": link} + "\n\n" + extra
        elif event.stream_reveal_at:
            extra = (
                _("The link to join online appears on your registration page from %(when)s.")
                % {"when": moment_text(event, event.stream_reveal_at)}
                + "\n\n"
                + extra
            )
    vevent = event_component(
        event,
        uid=invite_uid(registration),
        sequence=registration.invite_sequence if sequence is None else sequence,
        cancelled=cancelled,
        description_extra=extra,
        organizer_email=rsvp,
        location=location,
        url=link,
        now=now,
    )
    if method != PUBLISH:
        # RFC 5546: a published event names no attendees.
        attendee = icalendar.vCalAddress(f"mailto:{registration.email}")
        attendee.params["cn"] = single_line(registration.name) or registration.email
        attendee.params["role"] = "REQ-PARTICIPANT"
        attendee.params["partstat"] = "DECLINED" if cancelled else "ACCEPTED"
        # Replies are read only where the site receives them; elsewhere
        # registration and cancelling happen on the site.
        attendee.params["rsvp"] = "TRUE" if rsvp and not cancelled else "FALSE"
        vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    return calendar.to_ical()

"""iCalendar for talks: one VEVENT per talk, shared by the public feeds and the
personal invites that registrations attaches to its emails.

Times are written in UTC (`...Z`): every client converts those correctly, while
a TZID needs a VTIMEZONE that some clients read wrongly around DST changes.
"""

import datetime
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

PRODID = "-//IFML Seminar//Seminar registration 1.0//EN"


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def new_calendar(*, method: str, name: str = "") -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        # Not a standard property, so icalendar would write it unescaped: a
        # comma, semicolon or line break in a name would corrupt the feed.
        calendar.add("x-wr-calname", icalendar.vText(name))
    return calendar


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC)


def single_line(text: str) -> str:
    """Names go into parameters (CN=...), where a line break has no business."""
    return " ".join((text or "").split())


def location_text(event) -> str:
    """Where the public calendar puts the talk: the room, and whether it is online (never the stream link)."""
    if not event.has_in_person:
        return str(_("Online"))
    if event.has_online:
        return str(_("%(venue)s (and online)") % {"venue": event.venue})
    return str(event.venue)


def description_text(event, *, extra: str = "") -> str:
    """The DESCRIPTION, in the active language (a registrant's invite is built in theirs).

    A cancelled talk's starts by saying so, with the organizers' message, as its page does: a
    calendar shows the description, not the page.
    """
    speakers = [str(speaker) for speaker in event.speakers.all()]
    parts = []
    if event.is_cancelled:
        parts.append("\n".join(filter(None, [_("This talk was cancelled."), event.cancellation_note.strip()])))
    if speakers:
        parts.append(
            ngettext("Speaker: %(speakers)s", "Speakers: %(speakers)s", len(speakers))
            % {"speakers": ", ".join(speakers)}
        )
    if event.abstract:
        parts.append(event.abstract.strip())
    parts.append(_("Details: %(url)s") % {"url": absolute_url(event.get_absolute_url())})
    if extra:
        parts.append(extra)
    return "\n\n".join(parts)


def event_component(
    event,
    *,
    uid: str,
    sequence: int,
    cancelled: bool = False,
    description_extra: str = "",
    organizer_email: str = "",
    location: str = "",
    url: str = "",
    now: datetime.datetime | None = None,
) -> icalendar.Event:
    """The VEVENT for `event`, without attendees: callers add what is theirs.

    `location` and `url` replace the public ones (an online registrant's
    invite points at the stream).

    A cancelled talk (or a cancelled registrant's copy) reads the same in
    every client: STATUS:CANCELLED, a summary that says so (clients that
    ignore STATUS show that) and TRANSP:TRANSPARENT (it blocks no time).
    `organizer_email` replaces the series contact as ORGANIZER.
    """
    cancelled = cancelled or event.is_cancelled
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", _utc(now or timezone.now()))
    vevent.add("sequence", sequence)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("summary", _("Cancelled: %(title)s") % {"title": event.title} if cancelled else event.title)
    vevent.add("dtstart", _utc(event.start))
    vevent.add("dtend", _utc(event.end))
    vevent.add("location", location or location_text(event))
    vevent.add("description", description_text(event, extra=description_extra))
    vevent.add("url", url or absolute_url(event.get_absolute_url()))
    vevent.add("last-modified", _utc(event.updated_at))
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email or event.series.organizer_email}")
    organizer.params["cn"] = single_line(event.series.organizer_name)
    vevent.add("organizer", organizer)
    return vevent


def public_uid(event) -> str:
    return f"event-{event.pk}@{site_host()}"


def event_calendar(event) -> bytes:
    """A one-talk calendar to download (METHOD:PUBLISH)."""
    calendar = new_calendar(method="PUBLISH")
    calendar.add_component(event_component(event, uid=public_uid(event), sequence=event.sequence))
    return calendar.to_ical()


def series_calendar(series, events) -> bytes:
    """The subscribable feed of a series; cancelled talks stay in it as CANCELLED."""
    calendar = new_calendar(method="PUBLISH", name=series.name)
    calendar.add("x-wr-caldesc", icalendar.vText(series.description.strip() or series.name))
    calendar.add("refresh-interval", datetime.timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    now = timezone.now()
    for event in events:
        calendar.add_component(event_component(event, uid=public_uid(event), sequence=event.sequence, now=now))
    return calendar.to_ical()

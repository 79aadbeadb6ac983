"""The public facts of upcoming talks, as feeds, the JSON listing and the embeds show them.

Everything here is built from an explicit list of fields: what a talk page
shows to anyone, never a registrant, an organizer's address or a stream link.
"""

import datetime

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from events.ical import absolute_url
from events.models import Event, Series
from events.templatetags.event_tags import event_when
from registrations.models import Registration
from registrations.services import RegistrationError, check_registration_open, decide_status

# The most talks one response lists; the embed asks for a few.
MAX_TALKS = 100


def upcoming_talks(*, series: Series | None = None, now: datetime.datetime | None = None) -> QuerySet:
    """Published and cancelled talks that have not ended, soonest first, with what the listing needs."""
    events = Event.objects.published().upcoming(now).with_related()
    if series is not None:
        events = events.filter(series=series)
    return events.annotate(
        waitlisted_count=Count("registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED))
    )


def registration_state(event: Event, now: datetime.datetime) -> str:
    """Return "open", "waitlist", "full", "not_open_yet" or "closed", as the talk page's panel decides it.

    `event` comes from upcoming_talks(), which counts its waiting list.
    """
    try:
        check_registration_open(event=event, now=now)
        status = decide_status(event=event, waitlisted_count=event.waitlisted_count)
    except RegistrationError as error:
        if error.code in ("full", "waitlist_full"):
            return "full"
        return "not_open_yet" if error.code == "not_open_yet" else "closed"
    return "open" if status == Registration.Status.CONFIRMED else "waitlist"


def speaker_text(event: Event) -> str:
    """ "Atlas Wang (UT Austin), Ana Pérez" """
    return ", ".join(str(speaker) for speaker in event.speakers.all())


def talk_data(event: Event, *, now: datetime.datetime | None = None) -> dict:
    """One talk of the JSON listing."""
    now = now or timezone.now()
    venue = event.venue
    return {
        "title": event.title,
        "url": absolute_url(event.get_absolute_url()),
        "series": {"name": event.series.name, "url": absolute_url(event.series.get_absolute_url())},
        "speakers": [
            {"name": speaker.name, "affiliation": speaker.affiliation, "position": speaker.position}
            for speaker in event.speakers.all()
        ],
        "start": event.local_start.isoformat(),
        "end": event.local_end.isoformat(),
        "time_zone": venue.time_zone,
        "when": event_when(event),
        "place": {"room": venue.room, "building": venue.building, "address": venue.address, "map_url": venue.map_url},
        "capacity": event.capacity,
        "seats_left": event.seats_left,
        "status": "cancelled" if event.is_cancelled else "scheduled",
        "registration": registration_state(event, now),
        "calendar": absolute_url(reverse("events:event_ics", kwargs={"slug": event.slug})),
    }

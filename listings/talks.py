"""The public facts of talks, upcoming and past, as feeds, the JSON listings and the embeds show them.

Everything here is built from an explicit list of fields: what a talk page
shows to anyone, never a registrant, an organizer's address or a stream link.
"""

import datetime

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from events import materials
from events.ical import absolute_url
from events.models import Event, Series
from events.templatetags.event_tags import event_when
from registrations.models import Registration
from registrations.services import RegistrationError, check_registration_open, decide_status

# The most talks one response lists; the embed asks for a few.
MAX_TALKS = 100


IN_PERSON, ONLINE = Registration.Attendance.IN_PERSON, Registration.Attendance.ONLINE
WAITING, HELD = Registration.Status.WAITLISTED, Registration.Status.HELD


def upcoming_talks(*, series: Series | None = None, now: datetime.datetime | None = None) -> QuerySet:
    """Published and cancelled talks that have not ended, soonest first, with what the listing needs.

    Each waiting list (in the room, online) is counted by annotation, for `registration_state`,
    and so are the seats held until confirmed by email (taken now, but they may come back).
    """
    return _with_waiting_lists(Event.objects.published().upcoming(now).with_related(), series)


def past_talks(*, series: Series | None = None, now: datetime.datetime | None = None) -> QuerySet:
    """Talks that took place (published, not cancelled, ended), newest first: the archive's feeds and listings."""
    events = Event.objects.filter(status=Event.Status.PUBLISHED).past(now).with_related()
    return _with_waiting_lists(events, series)


def with_materials(events) -> list[Event]:
    """`events` as a list, each with its public materials as `material_list` (one query for all)."""
    return materials.attach(events)


def _with_waiting_lists(events: QuerySet, series: Series | None) -> QuerySet:
    if series is not None:
        events = events.filter(series=series)
    return events.annotate(
        **{
            f"{name}_{attendance}": Count(
                "registrations", filter=Q(registrations__status=status, registrations__attendance=attendance)
            )
            for name, status in (("waitlisted", WAITING), ("held", HELD))
            for attendance in (IN_PERSON, ONLINE)
        }
    )


def _offered(event: Event) -> list[str]:
    return [kind for kind, offered in ((IN_PERSON, event.has_in_person), (ONLINE, event.has_online)) if offered]


def _mode_state(event: Event, attendance: str) -> str:
    """ "open", "waitlist" or "full" for one way of attending, once registration is open."""
    waiting = event.waitlisted_online if attendance == ONLINE else event.waitlisted_in_person
    try:
        status = decide_status(event=event, waitlisted_count=waiting, attendance=attendance)
    except RegistrationError:
        return "full"
    return "open" if status == Registration.Status.CONFIRMED else "waitlist"


def registration_state(event: Event, now: datetime.datetime, attendance: str | None = None) -> str:
    """Return "open", "waitlist", "full", "not_open_yet" or "closed", as the talk page's panel decides it.

    For one way of attending (`attendance`), or for the talk: open when one
    way has a free place, else "waitlist" when one way has a waiting list.
    `event` comes from upcoming_talks(), which counts its waiting lists.
    """
    try:
        check_registration_open(event=event, now=now)
    except RegistrationError as error:
        return "not_open_yet" if error.code == "not_open_yet" else "closed"
    states = {_mode_state(event, kind) for kind in ([attendance] if attendance else _offered(event))}
    for state in ("open", "waitlist"):
        if state in states:
            return state
    return "full"


def speaker_text(event: Event) -> str:
    """ "Atlas Wang (UT Austin), Ana Pérez" """
    return ", ".join(str(speaker) for speaker in event.speakers.all())


def _places(event: Event, now: datetime.datetime) -> dict:
    """Places per way of attending: None for a way the talk does not offer; an online limit of None is no limit."""
    in_person = online = None
    if event.has_in_person:
        in_person = {
            "capacity": event.capacity,
            "seats_left": event.seats_left,
            "held": event.held_in_person,
            "registration": registration_state(event, now, IN_PERSON),
        }
    if event.has_online:
        online = {
            "capacity": event.online_capacity,
            "places_left": event.online_places_left,
            "held": event.held_online,
            "unlimited": event.online_capacity is None,
            "registration": registration_state(event, now, ONLINE),
        }
    return {"in_person": in_person, "online": online}


def material_data(material: materials.TalkMaterial) -> dict:
    """One public material of a talk: `type` is "application/pdf" for a file kept here, "link" for another site."""
    return {
        "kind": material.kind,
        "title": material.title,
        "url": material.url,
        "type": material.media_type or "link",
        "size": material.size,
    }


def talk_data(event: Event, *, now: datetime.datetime | None = None) -> dict:
    """One talk of the JSON listing (`event` from `with_materials`).

    `capacity` and `seats_left` are the seats in the room (None for an online
    talk); `in_person` and `online` give the places of each way of attending,
    with `held` of them kept until their people confirm by email (not left:
    they come back only if not confirmed in time); `materials` the talk's
    public slides, recordings and other materials; `cancellation_note` the
    organizers' message on a cancelled talk (None otherwise, or without one).
    Never the stream link: registrants get it by email.
    """
    now = now or timezone.now()
    venue = event.venue if event.has_in_person else None
    places = _places(event, now)
    in_person = places["in_person"] or {}
    return {
        "title": event.title,
        "url": absolute_url(event.get_absolute_url()),
        "series": {"name": event.series.name, "url": absolute_url(event.series.get_absolute_url())},
        "speakers": [
            {
                "name": speaker.name,
                "affiliation": speaker.affiliation,
                "position": speaker.position,
                "photo": speaker.photo_absolute_url,
            }
            for speaker in event.speakers.all()
        ],
        "start": event.local_start.isoformat(),
        "end": event.local_end.isoformat(),
        "time_zone": event.time_zone_name,
        "when": event_when(event),
        "attendance_mode": event.attendance_mode,
        "where": event.short_place,
        "place": {"room": venue.room, "building": venue.building, "address": venue.address, "map_url": venue.map_url}
        if venue
        else None,
        "capacity": in_person.get("capacity"),
        "seats_left": in_person.get("seats_left"),
        **places,
        "status": "cancelled" if event.is_cancelled else "scheduled",
        # What the organizers wrote when they cancelled it, as the talk's page shows it.
        "cancellation_note": (event.cancellation_note or None) if event.is_cancelled else None,
        "registration": registration_state(event, now),
        "calendar": absolute_url(reverse("events:event_ics", kwargs={"slug": event.slug})),
        "materials": [material_data(material) for material in getattr(event, "material_list", [])],
    }

"""What a talk page tells link previews and search engines.

The meta description, the Open Graph and Twitter card tags, and the schema.org
`Event` as JSON-LD. Every URL is absolute (built on SITE_URL): previews are
made by other sites, which cannot resolve a path. Nothing personal and nothing
private goes in here: only what the talk page itself shows the public.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from .when import talk_when

SCHEMA = "https://schema.org/"
# Link previews cut descriptions at about this length; search engines too.
DESCRIPTION_LENGTH = 200
# The square icon stands in for a speaker photo in link previews.
FALLBACK_IMAGE = "img/touch-icon.png"

# Characters that could end the <script> element or start a comment inside it,
# and line separators some JavaScript parsers choke on, written as JSON escapes:
# the data stays the same for every JSON parser.
_JSON_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def absolute_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else settings.SITE_URL + url


def json_ld_script(data: dict) -> SafeString:
    """`data` as a `<script type="application/ld+json">` block that no value can break out of."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), cls=_Encoder).translate(_JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


class _Encoder(json.JSONEncoder):
    def default(self, o):
        # Lazy translations and other str-like values.
        return str(o)


# Open Graph names a language with its territory; the Spanish is Latin American.
OPEN_GRAPH_LOCALES = {"en": "en_US", "es": "es_LA"}


@dataclass(frozen=True)
class Preview:
    """What a shared link shows: title, description, image, canonical URL."""

    title: str
    description: str
    url: str
    image: str
    image_alt: str
    has_photo: bool = False

    @property
    def locale(self) -> str:
        """The page's language as Open Graph wants it, language and territory (en_US)."""
        language = get_language() or settings.LANGUAGE_CODE
        return OPEN_GRAPH_LOCALES.get(language, to_locale(language))


def page_preview(*, title: str, description: str, path: str) -> Preview:
    """A preview for a page that is not a talk: the site's icon as its image."""
    return Preview(
        title=title,
        description=Truncator(" ".join(description.split())).chars(DESCRIPTION_LENGTH),
        url=absolute_url(path),
        image=absolute_url(static(FALLBACK_IMAGE)),
        image_alt=settings.SITE_NAME,
    )


def speakers_text(speakers) -> str:
    return ", ".join(
        f"{speaker.name} ({speaker.affiliation})" if speaker.affiliation else speaker.name for speaker in speakers
    )


def event_description(event, speakers) -> str:
    """One paragraph for previews: who, where and when, then the start of the abstract."""
    if not event.has_in_person:
        room = _("online")
    elif event.has_online:
        room = _("%(room)s and online") % {"room": event.venue.room}
    else:
        room = event.venue.room
    facts = {"series": event.series.name, "when": talk_when(event), "room": room}
    if speakers:
        lead = _("%(speakers)s at the %(series)s, %(when)s, %(room)s.") % {"speakers": speakers_text(speakers), **facts}
    else:
        lead = _("%(series)s, %(when)s, %(room)s.") % facts
    if event.is_cancelled:
        lead = _("Cancelled: %(talk)s") % {"talk": lead}
    abstract = " ".join(event.abstract.split())
    return Truncator(f"{lead} {abstract}".strip()).chars(DESCRIPTION_LENGTH)


def event_preview(event, speakers) -> Preview:
    photo = next((speaker for speaker in speakers if speaker.photo_src), None)
    names = ", ".join(speaker.name for speaker in speakers)
    return Preview(
        title=f"{event.title} – {names}" if names else event.title,
        description=event_description(event, speakers),
        url=absolute_url(event.get_absolute_url()),
        image=photo.photo_absolute_url if photo else absolute_url(static(FALLBACK_IMAGE)),
        image_alt=_("Photo of %(name)s") % {"name": photo.name} if photo else settings.SITE_NAME,
        has_photo=photo is not None,
    )


def event_status(event) -> str:
    if event.is_cancelled:
        return SCHEMA + "EventCancelled"
    if event.is_rescheduled:
        return SCHEMA + "EventRescheduled"
    return SCHEMA + "EventScheduled"


ATTENDANCE_MODES = {
    "in_person": SCHEMA + "OfflineEventAttendanceMode",
    "online": SCHEMA + "OnlineEventAttendanceMode",
    "hybrid": SCHEMA + "MixedEventAttendanceMode",
}


def offer_availability(event, now, *, online: bool = False) -> str:
    """What a person can get right now: a place, nothing yet, nothing any more."""
    if event.is_cancelled or event.has_started(now):
        return SCHEMA + "Discontinued"
    if event.registration_closes and now >= event.registration_closes:
        return SCHEMA + "Discontinued"
    if event.registration_opens and now < event.registration_opens:
        return SCHEMA + "PreOrder"
    places_left = event.online_places_left if online else event.seats_left
    return SCHEMA + ("InStock" if places_left is None or places_left else "SoldOut")


def _offer(event, url, now, *, online: bool) -> dict:
    offer = {
        "@type": "Offer",
        "url": url + "#register",
        "price": "0",
        "availability": offer_availability(event, now, online=online),
    }
    if event.has_online and event.has_in_person:
        offer["name"] = _("Online") if online else _("In person")
    if event.registration_opens:
        offer["validFrom"] = timezone.localtime(event.registration_opens, event.local_time_zone).isoformat()
    return offer


def _place(venue) -> dict:
    place = {
        "@type": "Place",
        "name": str(venue),
        # Search engines want an address; the room and building are all some venues have.
        "address": {"@type": "PostalAddress", "streetAddress": venue.address or str(venue)},
    }
    if venue.map_url:
        place["hasMap"] = venue.map_url
    return place


def _person(speaker) -> dict:
    person = {"@type": "Person", "name": speaker.name}
    if speaker.position:
        person["jobTitle"] = speaker.position
    if speaker.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": speaker.affiliation}
    if speaker.photo_src:
        person["image"] = speaker.photo_absolute_url
    if speaker.website:
        person["url"] = speaker.website
    return person


def _video(recording) -> dict:
    # A link to the recording's page (a video site, the department's archive): `url`, not
    # `contentUrl`, which names the media file itself.
    return {
        "@type": "VideoObject",
        "name": recording.title,
        "url": recording.url,
        "uploadDate": recording.added_at.isoformat(),
    }


def event_json_ld(event, speakers, *, now=None, recordings=()) -> dict:
    """The schema.org `Event` for a public talk: times with the venue's UTC offset.

    `recordings` (public `events.materials.TalkMaterial`s) become `recordedIn`: schema.org's
    Event property for "the CreativeWork that captured all or part of this Event", here a VideoObject.
    """
    now = now or timezone.now()
    url = absolute_url(event.get_absolute_url())
    series = event.series
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "url": url,
        "startDate": event.local_start.isoformat(),
        "endDate": event.local_end.isoformat(),
        "eventStatus": event_status(event),
        "eventAttendanceMode": ATTENDANCE_MODES[event.attendance_mode],
        "organizer": {
            "@type": "Organization",
            "name": series.organizer_name or series.name,
            "url": absolute_url(series.get_absolute_url()),
        },
        "isAccessibleForFree": True,
    }
    # The talk page stands for the online place: the stream link itself is for registrants only.
    locations = [_place(event.venue)] if event.has_in_person else []
    if event.has_online:
        locations.append({"@type": "VirtualLocation", "url": url})
    data["location"] = locations[0] if len(locations) == 1 else locations
    offers = [_offer(event, url, now, online=False)] if event.has_in_person else []
    if event.has_online:
        offers.append(_offer(event, url, now, online=True))
    data["offers"] = offers[0] if len(offers) == 1 else offers
    if event.is_rescheduled:
        data["previousStartDate"] = timezone.localtime(event.previous_start, event.local_time_zone).isoformat()
    if event.abstract:
        data["description"] = event.abstract.strip()
    if speakers:
        data["performer"] = [_person(speaker) for speaker in speakers]
    photos = [speaker.photo_absolute_url for speaker in speakers if speaker.photo_src]
    if photos:
        data["image"] = photos
    videos = [_video(recording) for recording in recordings]
    if videos:
        data["recordedIn"] = videos[0] if len(videos) == 1 else videos
    return data

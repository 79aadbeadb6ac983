"""What the screen by the door shows: the series' talk now or next, its seats, its address. Nothing personal."""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events import when
from listings.talks import registration_state, upcoming_talks


def refresh_seconds() -> int:
    """How often an open screen asks for news (DOOR_SCREEN_REFRESH_SECONDS)."""
    return max(1, int(settings.DOOR_SCREEN_REFRESH_SECONDS))


def _seats(event, now) -> dict:
    """The big line of the screen, and whether it tells people to stay away ("full") or come in ("open")."""
    if event.is_cancelled:
        return {"text": _("Cancelled"), "tone": "closed"}
    state = registration_state(event, now)
    if state == "open" and event.has_in_person:
        left = event.seats_left
        text = ngettext("%(count)d seat left", "%(count)d seats left", left) % {"count": left}
        if event.has_online:
            text = _("%(seats)s, and online places") % {"seats": text}
        return {"text": text, "tone": "open"}
    if state == "open":
        return {"text": _("Online: places free"), "tone": "open"}
    if state == "waitlist":
        return {"text": _("Full: join the waiting list"), "tone": "waitlist"}
    if state == "full":
        return {"text": _("Full"), "tone": "closed"}
    if state == "not_open_yet":
        opens = when.moment_text(event, event.registration_opens, style=when.SHORT)
        return {"text": _("Registration opens %(when)s") % {"when": opens}, "tone": "later"}
    if event.has_started(now):
        return {"text": _("Happening now"), "tone": "now"}
    return {"text": _("Registration closed"), "tone": "closed"}


def screen_data(screen, *, now: datetime.datetime | None = None) -> dict:
    """The screen's content, as the JSON answer and the first render share it."""
    now = now or timezone.now()
    event = upcoming_talks(series=screen.series, now=now).first()
    data = {"series": screen.series.name, "refresh": refresh_seconds(), "talk": None}
    if event is None:
        data["heading"] = _("No talk scheduled")
        return data
    started = event.has_started(now) and not event.is_cancelled
    data["heading"] = _("Now") if started else _("Next")
    data["talk"] = {
        "id": event.pk,
        "title": event.title,
        "speakers": [
            ", ".join(part for part in (speaker.name, speaker.affiliation) if part) for speaker in event.speakers.all()
        ],
        "when": when.talk_when(event),
        "place": _("Online") if not event.has_in_person else str(event.venue),
        "url": settings.SITE_URL + event.get_absolute_url(),
        "qr": reverse("doorscreen:qr", kwargs={"key": screen.key, "slug": event.slug}),
        "seats": _seats(event, now),
    }
    return data

"""Links that put a talk, or a whole series, into someone's calendar."""

import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.urls import reverse

from events.ical import description_text, location_text

register = template.Library()

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"


def _google_time(value) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


@register.filter
def google_calendar_url(event) -> str:
    """Google Calendar's "add event" page, prefilled; times in UTC so no zone can be misread."""
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_google_time(event.start)}/{_google_time(event.end)}",
        "details": description_text(event),
        "location": location_text(event),
    }
    return f"{GOOGLE_CALENDAR}?{urlencode(query)}"


@register.simple_tag
def webcal_url(series) -> str:
    """The series feed as a webcal:// address, which calendar apps offer to subscribe to."""
    parts = urlsplit(settings.SITE_URL + reverse("events:series_calendar", kwargs={"slug": series.slug}))
    return urlunsplit(("webcal", *parts[1:]))

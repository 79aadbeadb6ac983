"""Links that put a whole series into someone's calendar (a subscription, kept current)."""

from urllib.parse import urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.simple_tag
def webcal_url(series) -> str:
    """The series feed as a webcal:// address, which calendar apps offer to subscribe to."""
    parts = urlsplit(settings.SITE_URL + reverse("events:series_calendar", kwargs={"slug": series.slug}))
    return urlunsplit(("webcal", *parts[1:]))

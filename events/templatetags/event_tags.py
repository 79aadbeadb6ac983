from django import template
from django.utils import dateformat

from events import when

register = template.Library()


@register.filter
def event_when(event):
    """The talk's date and time on its venue's clock, naming the zone (events.when.talk_when)."""
    return when.talk_when(event)


@register.filter
def event_when_short(event):
    """The start alone, for lists: "Tue 15 Dec 2026, 11:00 AM CST" (events.when.talk_when, SHORT)."""
    return when.talk_when(event, style=when.SHORT)


@register.filter
def event_date(event):
    """Short local date for lists: "Mon, Dec 7, 2026" (the time beside it names the zone)."""
    return dateformat.format(event.local_start, "D, M j, Y")


@register.filter
def event_time(event):
    """Local time range for lists: "11:00 AM to 12:00 PM CST" (with an en dash)."""
    return when.talk_when(event, style=when.TIME)


@register.filter
def event_moment(moment, event):
    """Another moment about the talk on its venue's clock: {{ registration.cancelled_at|event_moment:event }}."""
    return when.moment_text(event, moment)


@register.filter
def local_start(event, fmt):
    """Any date format of the talk's start on its venue's clock: {{ event|local_start:"M" }}."""
    return dateformat.format(event.local_start, fmt)


@register.filter
def event_clock(moment, event):
    """Only the clock time of a moment about the talk, naming the zone.

    {{ registration.checked_in_at|event_clock:event }}
    """
    return when.time_of_day(event, moment)

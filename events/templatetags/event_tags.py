from django import template
from django.utils import dateformat

register = template.Library()


@register.filter
def event_when(event):
    """The talk's date and time on the wall clock of its venue, with the zone's abbreviation.

    For example "Monday, December 7, 2026, 11:00 AM to 12:00 PM CST" (with an en dash).
    Formatting here rather
    than with the date filter keeps the venue's zone: template filters convert
    aware datetimes to the active time zone first.
    """
    start, end = event.local_start, event.local_end
    if start.date() == end.date():
        return f"{dateformat.format(start, 'l, F j, Y, g:i A')} – {dateformat.format(end, 'g:i A T')}"
    return f"{dateformat.format(start, 'l, F j, Y, g:i A T')} – {dateformat.format(end, 'l, F j, Y, g:i A T')}"


@register.filter
def event_date(event):
    """Short local date for lists: "Mon, Dec 7, 2026"."""
    return dateformat.format(event.local_start, "D, M j, Y")


@register.filter
def event_time(event):
    """Local time range for lists: "11:00 AM to 12:00 PM CST" (with an en dash)."""
    start, end = event.local_start, event.local_end
    if start.date() == end.date():
        return f"{dateformat.format(start, 'g:i A')} – {dateformat.format(end, 'g:i A T')}"
    return f"{dateformat.format(start, 'g:i A T')} – {dateformat.format(end, 'M j, g:i A T')}"


@register.filter
def local_start(event, fmt):
    """Any date format of the talk's start on its venue's clock: {{ event|local_start:"M" }}."""
    return dateformat.format(event.local_start, fmt)

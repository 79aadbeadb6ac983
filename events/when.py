"""How the site writes a talk's time: on the venue's clock, always naming the venue's zone.

The one formatter for every place a talk's time is shown: the talk page and
lists, emails and their subjects, the admin and the CSV export. How a moment
is written on a zone's clock (the patterns, each language's own, and the
zone's abbreviation, right in the repeated hour of a DST change) is
seminar_site/clock.py's, shared with the admin's other timestamps.
"""

import datetime

from django.utils import dateformat

from seminar_site import clock
from seminar_site.clock import CSV, LONG, SHORT, zone_name

TIME = "time"


def local(event, moment: datetime.datetime) -> datetime.datetime:
    # astimezone (not a naive replace) sets `fold` for the repeated hour.
    return moment.astimezone(event.local_time_zone)


def moment_text(event, moment: datetime.datetime | None, *, style: str = LONG) -> str:
    """Any moment about `event` (registration opens, a registrant cancelled) on the venue's clock."""
    return clock.moment_text(moment, zone=event.local_time_zone, style=style)


def talk_when(event, *, style: str = LONG) -> str:
    """The talk's time, e.g. "Tuesday, December 15, 2026, 11:00 AM to 12:00 PM CST" (en dash).

    Styles: LONG (pages, email bodies), SHORT (subjects, admin lists: the
    start only, "Tue 15 Dec 2026, 11:00 AM CST"), TIME (the time range alone,
    for lists that show the date apart), CSV ("2026-12-15 11:00 CST", the start).
    The end names its zone too when it differs from the start's (a talk
    across a DST change), and its date when the talk ends on another day.
    """
    if style in (SHORT, CSV):
        return moment_text(event, event.start, style=style)
    patterns = clock.patterns()
    start, end = local(event, event.start), local(event, event.end)
    if start.date() != end.date():
        date = patterns["short_date"] if style == TIME else patterns["date"]
        return (
            f"{dateformat.format(start, date)}, {clock.time_text(start, patterns)} – "
            f"{dateformat.format(end, date)}, {clock.time_text(end, patterns)}"
        )
    start_time = dateformat.format(start, patterns["time"])
    if zone_name(start) != zone_name(end):
        start_time = clock.time_text(start, patterns)
    times = f"{start_time} – {clock.time_text(end, patterns)}"
    if style == TIME:
        return times
    return f"{dateformat.format(start, patterns['date'])}, {times}"


def time_of_day(event, moment: datetime.datetime | None) -> str:
    """Only the clock time of a moment about `event`, e.g. "11:02 AM CST" (a check-in at the door)."""
    if moment is None:
        return ""
    return clock.time_text(local(event, moment))


def deadline_text(event, moment: datetime.datetime | None, *, now: datetime.datetime) -> str:
    """A deadline about `event` as briefly as it stays clear: "2:30 PM CST" on the day of `now`
    (on the venue's clock), else with its date ("Tue 15 Dec 2026, 2:30 PM CST")."""
    if moment is None:
        return ""
    if local(event, moment).date() == local(event, now).date():
        return time_of_day(event, moment)
    return moment_text(event, moment, style=SHORT)

"""How the site writes a talk's time: on the venue's clock, always naming the venue's zone.

The one formatter for every place a talk's time is shown: the talk page and
lists, emails and their subjects, the admin and the CSV export. Django's `T`
format drops the zone for a time in the repeated hour of a DST change (it
cannot tell which one is meant); here the moment is a real instant converted
to the venue's zone, so its fold, and with it the abbreviation, is known.

The date and time patterns are translatable (Django's date format
characters), so each language writes them its own way.
"""

import datetime

from django.utils import dateformat
from django.utils.translation import pgettext

LONG, SHORT, TIME, CSV = "long", "short", "time", "csv"


def _patterns():
    return {
        # Tuesday, December 15, 2026
        "date": pgettext("long date of a talk", "l, F j, Y"),
        # Tue 15 Dec 2026
        "short_date": pgettext("short date of a talk", "D j M Y"),
        # 11:00 AM
        "time": pgettext("time of day of a talk", "g:i A"),
    }


def zone_name(moment: datetime.datetime) -> str:
    """The zone's abbreviation at `moment` (CST or CDT); an offset where the zone has none (UTC+03)."""
    name = moment.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def local(event, moment: datetime.datetime) -> datetime.datetime:
    # astimezone (not a naive replace) sets `fold` for the repeated hour.
    return moment.astimezone(event.local_time_zone)


def _time(moment, patterns) -> str:
    return f"{dateformat.format(moment, patterns['time'])} {zone_name(moment)}"


def moment_text(event, moment: datetime.datetime | None, *, style: str = LONG) -> str:
    """Any moment about `event` (registration opens, a registrant cancelled) on the venue's clock."""
    if moment is None:
        return ""
    moment = local(event, moment)
    if style == CSV:
        # Not translated: spreadsheets sort and parse it (and exports run it per row).
        return f"{moment:%Y-%m-%d %H:%M} {zone_name(moment)}"
    patterns = _patterns()
    date = patterns["short_date"] if style == SHORT else patterns["date"]
    return f"{dateformat.format(moment, date)}, {_time(moment, patterns)}"


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
    patterns = _patterns()
    start, end = local(event, event.start), local(event, event.end)
    if start.date() != end.date():
        date = patterns["short_date"] if style == TIME else patterns["date"]
        return (
            f"{dateformat.format(start, date)}, {_time(start, patterns)} – "
            f"{dateformat.format(end, date)}, {_time(end, patterns)}"
        )
    start_time = dateformat.format(start, patterns["time"])
    if zone_name(start) != zone_name(end):
        start_time = _time(start, patterns)
    times = f"{start_time} – {_time(end, patterns)}"
    if style == TIME:
        return times
    return f"{dateformat.format(start, patterns['date'])}, {times}"


def time_of_day(event, moment: datetime.datetime | None) -> str:
    """Only the clock time of a moment about `event`, e.g. "11:02 AM CST" (a check-in at the door)."""
    if moment is None:
        return ""
    return _time(local(event, moment), _patterns())


def deadline_text(event, moment: datetime.datetime | None, *, now: datetime.datetime) -> str:
    """A deadline about `event` as briefly as it stays clear: "2:30 PM CST" on the day of `now`
    (on the venue's clock), else with its date ("Tue 15 Dec 2026, 2:30 PM CST")."""
    if moment is None:
        return ""
    if local(event, moment).date() == local(event, now).date():
        return time_of_day(event, moment)
    return moment_text(event, moment, style=SHORT)

"""How the site writes a moment: on one zone's clock, always naming that zone.

events/when.py writes a talk's times on its venue's clock with it; the admin's
lists write the moments that belong to no talk's clock (a message queued, a
link created) on the site's (TIME_ZONE) with it too, so staff in other zones
never read a bare "11:00 a.m.". Django's `T` format drops the zone for a time
in the repeated hour of a DST change (it cannot tell which one is meant); here
the moment is a real instant converted to the zone, so its fold, and with it
the abbreviation, is known.

The date and time patterns are translatable (Django's date format
characters), so each language writes them its own way.
"""

import datetime
import zoneinfo

from django.utils import dateformat, timezone
from django.utils.translation import pgettext

LONG, SHORT, CSV = "long", "short", "csv"


def patterns() -> dict[str, str]:
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


def time_text(moment: datetime.datetime, written=None) -> str:
    """The clock time of `moment` (already on its zone's clock) with the zone: "11:00 AM CST"."""
    return f"{dateformat.format(moment, (written or patterns())['time'])} {zone_name(moment)}"


def moment_text(moment: datetime.datetime | None, *, zone: zoneinfo.ZoneInfo | None = None, style: str = LONG) -> str:
    """`moment` on the clock of `zone` (the site's TIME_ZONE by default), naming the zone.

    Styles: LONG ("Tuesday, December 15, 2026, 11:00 AM CST"), SHORT ("Tue 15
    Dec 2026, 11:00 AM CST"), CSV ("2026-12-15 11:00 CST", not translated:
    spreadsheets sort and parse it, and exports run it per row). "" for None.
    """
    if moment is None:
        return ""
    # astimezone (not a naive replace) sets `fold` for the repeated hour.
    moment = moment.astimezone(zone or timezone.get_default_timezone())
    if style == CSV:
        return f"{moment:%Y-%m-%d %H:%M} {zone_name(moment)}"
    written = patterns()
    date = written["short_date"] if style == SHORT else written["date"]
    return f"{dateformat.format(moment, date)}, {time_text(moment, written)}"

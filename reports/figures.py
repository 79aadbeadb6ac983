"""The figures: counts straight from the registrations table, one query per figure.

Erased registrations stay rows (only who registered is gone), so every count
includes them; their affiliation is empty and counts as "not given".
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registrations.models import Registration

Status = Registration.Status

# How many affiliations a breakdown names; the rest are summed as "other".
TOP_AFFILIATIONS = 10


@dataclass
class Table:
    """A chart's figures: what the SVG draws, the page's table shows and the CSV holds."""

    slug: str
    title: str
    description: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    kind: str = "bar"  # bar, line or grouped


def counts(registrations) -> dict[str, int]:
    """Registrations (all sign-ups), confirmed, waiting, cancelled and checked in, in one query."""
    return registrations.aggregate(
        registered=Count("pk"),
        confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(status=Status.WAITLISTED)),
        cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
        checked_in=Count("pk", filter=Q(status=Status.CONFIRMED, checked_in_at__isnull=False)),
    )


def no_shows(figures: dict[str, int], *, over: bool) -> tuple[int | None, float | None]:
    """(no-shows, their share of confirmed seats) once a talk is over; (None, None) before."""
    if not over:
        return None, None
    missing = figures["confirmed"] - figures["checked_in"]
    return missing, (missing / figures["confirmed"] if figures["confirmed"] else None)


def sign_ups_over_time(event) -> Table:
    """Cumulative sign-ups per day (on the venue's calendar) up to the talk."""
    per_day = (
        Registration.objects.filter(event=event, created_at__lt=event.start)
        .annotate(day=TruncDate("created_at", tzinfo=event.local_time_zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    table = Table(
        "sign-ups",
        _("Sign-ups before the talk"),
        "",
        [_("Date"), _("Sign-ups that day"), _("Sign-ups so far")],
        kind="line",
    )
    total = 0
    for row in per_day:
        total += row["n"]
        table.rows.append([row["day"].isoformat(), row["n"], total])
    last = table.rows[-1] if table.rows else None
    table.description = (
        _("%(total)s people signed up between %(first)s and %(last)s.")
        % {"total": total, "first": table.rows[0][0], "last": last[0]}
        if last
        else _("Nobody signed up before the talk.")
    )
    return table


def by_position(registrations) -> Table:
    labels = dict(Registration.Position.choices)
    rows = registrations.values("position").annotate(n=Count("pk")).order_by("-n", "position")
    table = Table("positions", _("Sign-ups by position"), "", [_("Position"), _("Sign-ups")])
    table.rows = [[str(labels.get(row["position"], _("Not given"))), row["n"]] for row in rows]
    table.description = _describe(table)
    return table


def by_affiliation(registrations) -> Table:
    rows = list(registrations.values("affiliation").annotate(n=Count("pk")).order_by("-n", "affiliation"))
    named = [row for row in rows if row["affiliation"]]
    not_given = sum(row["n"] for row in rows if not row["affiliation"])
    table = Table("affiliations", _("Sign-ups by affiliation"), "", [_("Affiliation"), _("Sign-ups")])
    table.rows = [[row["affiliation"], row["n"]] for row in named[:TOP_AFFILIATIONS]]
    other = sum(row["n"] for row in named[TOP_AFFILIATIONS:])
    if other:
        table.rows.append([str(_("Other affiliations")), other])
    if not_given:
        table.rows.append([str(_("Not given or erased")), not_given])
    table.description = _describe(table)
    return table


def _describe(table: Table) -> str:
    if not table.rows:
        return str(_("No sign-ups yet."))
    parts = ", ".join(f"{label}: {n}" for label, n in table.rows)
    return str(_("%(title)s. %(parts)s.") % {"title": table.title, "parts": parts})


def attendance_per_talk(events) -> Table:
    """Per talk of a series: confirmed seats and people checked in (talks annotated by `with_counts`)."""
    table = Table(
        "attendance",
        _("Attendance per talk"),
        "",
        [_("Talk"), _("Date"), _("Confirmed"), _("Checked in")],
        kind="grouped",
    )
    table.rows = [
        [event.title, event.local_start.date().isoformat(), event.confirmed, event.checked_in] for event in events
    ]
    table.description = "; ".join(
        str(_("%(date)s: %(checked)s of %(confirmed)s came") % {"date": r[1], "checked": r[3], "confirmed": r[2]})
        for r in table.rows
    ) or str(_("No talks yet."))
    return table


def with_counts(events):
    """Talks annotated with the same counts as `counts`, for a per-talk table in one query."""
    regs = "registrations"
    return events.annotate(
        registered=Count(regs),
        confirmed=Count(regs, filter=Q(registrations__status=Status.CONFIRMED)),
        waitlisted=Count(regs, filter=Q(registrations__status=Status.WAITLISTED)),
        cancelled=Count(regs, filter=Q(registrations__status=Status.CANCELLED)),
        checked_in=Count(
            regs, filter=Q(registrations__status=Status.CONFIRMED, registrations__checked_in_at__isnull=False)
        ),
    )


def is_over(event, now: datetime.datetime | None = None) -> bool:
    return event.end <= (now or timezone.now())

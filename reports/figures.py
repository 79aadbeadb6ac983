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
from django.utils.translation import ngettext

from registrations.models import Registration

Status = Registration.Status
Attendance = Registration.Attendance
KEYS = ("registered", "confirmed", "held", "waitlisted", "cancelled", "checked_in")
# The counts of a registration's state, in the order tables show them.
STATES = KEYS[:5]

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
    kind: str = "bar"  # bar, line, grouped, groups; "text" for a table without a chart (comments)

    @property
    def has_chart(self) -> bool:
        return self.kind != "text"


def _filters(prefix: str = "") -> dict[str, Q]:
    status, checked_in = f"{prefix}status", f"{prefix}checked_in_at__isnull"
    return {
        "registered": Q(),
        "confirmed": Q(**{status: Status.CONFIRMED}),
        # Seats kept until their person confirms by email: taken, but they may come back.
        "held": Q(**{status: Status.HELD}),
        "waitlisted": Q(**{status: Status.WAITLISTED}),
        "cancelled": Q(**{status: Status.CANCELLED}),
        "checked_in": Q(**{status: Status.CONFIRMED, checked_in: False}),
    }


def _count_expressions(*, path: str = "pk", prefix: str = "") -> dict[str, Count]:
    """Each of KEYS in all, and per way of attending as "in_person_<key>" and "online_<key>"."""
    attendance = f"{prefix}attendance"
    expressions = {}
    for key, condition in _filters(prefix).items():
        expressions[key] = Count(path, filter=condition) if condition else Count(path)
        for mode in Attendance.values:
            expressions[f"{mode}_{key}"] = Count(path, filter=condition & Q(**{attendance: mode}))
    return expressions


def counts(registrations) -> dict[str, int]:
    """Registrations (all sign-ups), confirmed, held, waiting, cancelled and checked in, in one query.

    Also per way of attending: "in_person_confirmed", "online_waitlisted" and so on.
    Only people in the room are checked in at the door.
    """
    return registrations.aggregate(**_count_expressions())


def no_shows(figures: dict[str, int], *, over: bool) -> tuple[int | None, float | None]:
    """(no-shows, their share of confirmed seats in the room) once a talk is over; (None, None) before.

    People attending online are never checked in at a door, so they are not no-shows.
    """
    if not over:
        return None, None
    confirmed = figures["in_person_confirmed"]
    missing = confirmed - figures["in_person_checked_in"]
    return missing, (missing / confirmed if confirmed else None)


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
    if not last:
        table.description = _("Nobody signed up before the talk.")
    elif last[0] == table.rows[0][0]:
        table.description = ngettext(
            "%(total)s person signed up, on %(first)s.", "%(total)s people signed up, all on %(first)s.", total
        ) % {"total": total, "first": last[0]}
    else:
        table.description = ngettext(
            "%(total)s person signed up between %(first)s and %(last)s.",
            "%(total)s people signed up between %(first)s and %(last)s.",
            total,
        ) % {"total": total, "first": table.rows[0][0], "last": last[0]}
    return table


def by_position(registrations) -> Table:
    labels = dict(Registration.Position.choices)
    rows = registrations.values("position").annotate(n=Count("pk")).order_by("-n", "position")
    table = Table("positions", _("Sign-ups by position"), "", [_("Position"), _("Sign-ups")])
    table.rows = [[str(labels.get(row["position"], _("Not given"))), row["n"]] for row in rows]
    table.description = _describe(table)
    return table


def by_affiliation(registrations) -> Table:
    """Affiliations typed differently only in letter case or spaces ("UT Austin", "ut austin ") count as one,
    under the spelling most of them typed."""
    groups: dict[str, dict[str, int]] = {}
    not_given = 0
    for row in registrations.values("affiliation").annotate(n=Count("pk")).order_by():
        spelling = " ".join(row["affiliation"].split())
        if not spelling:
            not_given += row["n"]
            continue
        spellings = groups.setdefault(spelling.casefold(), {})
        spellings[spelling] = spellings.get(spelling, 0) + row["n"]
    named = sorted(
        (
            (sum(spellings.values()), min(spellings, key=lambda spelling: (-spellings[spelling], spelling)))
            for spellings in groups.values()
        ),
        key=lambda group: (-group[0], group[1].casefold(), group[1]),
    )
    table = Table("affiliations", _("Sign-ups by affiliation"), "", [_("Affiliation"), _("Sign-ups")])
    table.rows = [[spelling, n] for n, spelling in named[:TOP_AFFILIATIONS]]
    other = sum(n for n, _spelling in named[TOP_AFFILIATIONS:])
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


def attendance_per_talk(events, *, online: bool = False) -> Table:
    """Per talk of a series that has taken place: confirmed seats in the room and people checked in
    (talks annotated by `with_counts`); with `online`, the confirmed online places too."""
    columns = [_("Talk"), _("Date"), _("Confirmed in the room"), _("Checked in")]
    if online:
        columns.append(_("Confirmed online"))
    table = Table("attendance", _("Attendance per talk"), "", columns, kind="grouped")
    for event in events:
        row = [event.title, event.local_start.date().isoformat(), event.in_person_confirmed, event.in_person_checked_in]
        if online:
            row.append(event.online_confirmed)
        table.rows.append(row)
    table.description = "; ".join(_describe_talk(row) for row in table.rows) or str(_("No talk has taken place yet."))
    return table


def _describe_talk(row) -> str:
    facts = {"date": row[1], "confirmed": row[2], "checked": row[3]}
    if len(row) > 4:
        return str(_("%(date)s: %(checked)s of %(confirmed)s came, %(online)s online") % (facts | {"online": row[4]}))
    return str(_("%(date)s: %(checked)s of %(confirmed)s came") % facts)


def by_attendance(
    figures: dict, *, no_shows: dict | None = None, modes=tuple(Attendance.values), no_shows_label=None
) -> Table:
    """The counts of `counts()` per way of attending (in the room, online): one row each.

    `no_shows` maps a way of attending to its no-shows (None: not known yet);
    online places have no check-in and no no-shows (empty cells).
    """
    labels = dict(Attendance.choices)
    table = Table(
        "attendance-modes",
        _("In the room and online"),
        "",
        [
            _("Attends"),
            _("Sign-ups"),
            _("Confirmed"),
            _("Held until confirmed"),
            _("Waiting list"),
            _("Cancelled"),
            _("Checked in"),
            no_shows_label or _("No-shows"),
        ],
        kind="groups",
    )
    no_shows = no_shows or {}
    for mode in modes:
        in_room = mode == Attendance.IN_PERSON
        row = [str(labels[mode]), *(figures[f"{mode}_{key}"] for key in STATES)]
        row += [figures[f"{mode}_checked_in"], no_shows.get(mode)] if in_room else [None, None]
        table.rows.append(row)
    table.description = " ".join(_describe_mode(row) for row in table.rows)
    return table


def _describe_mode(row) -> str:
    facts = dict(zip(("mode", *STATES), row[:6], strict=True))
    # "Label: count" pairs: no plural to agree with, in any language.
    parts = [
        _(
            "sign-ups: %(registered)s, confirmed: %(confirmed)s, held until confirmed: %(held)s, "
            "waiting: %(waitlisted)s, cancelled: %(cancelled)s"
        )
        % facts
    ]
    checked_in, no_shows = row[6], row[7]
    if checked_in is not None:
        parts.append(_("checked in: %(checked_in)s") % {"checked_in": checked_in})
    if no_shows is not None:
        parts.append(_("no-shows: %(no_shows)s") % {"no_shows": no_shows})
    return str(_("%(mode)s: %(facts)s.") % {"mode": facts["mode"], "facts": ", ".join(str(part) for part in parts)})


def with_counts(events):
    """Talks annotated with the counts of `counts` (per way of attending too): a per-talk table in one query."""
    return events.annotate(**_count_expressions(path="registrations", prefix="registrations__"))


def is_over(event, now: datetime.datetime | None = None) -> bool:
    return event.end <= (now or timezone.now())

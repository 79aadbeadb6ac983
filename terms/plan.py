"""What importing a term would do, row by row, before anything is written (a dry run).

`plan_term` reads the rows against the database as it is: for each row,
whether it creates a talk, changes one (and what), changes nothing, or cannot
be imported, with every problem tied to its row and column. Speakers and
rooms are matched by name; those not found are created only when asked.
`services.import_term` runs the same plan inside its transaction and writes
only when every row is valid.
"""

import datetime
import re
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from events import when
from events.models import Event, Speaker, Venue
from events.schedule import shift_local
from events.search import Fold, fold
from seminar_site import clock

from .columns import SEPARATOR
from .reading import Row

TITLE_MAX, NAME_MAX, ROOM_MAX = 300, 200, 100
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap]\.?m\.?)?$", re.IGNORECASE)
ATTENDANCE = {
    "in_person": Event.AttendanceMode.IN_PERSON,
    "in person": Event.AttendanceMode.IN_PERSON,
    "online": Event.AttendanceMode.ONLINE,
    "hybrid": Event.AttendanceMode.HYBRID,
}
STATUSES = {"draft": Event.Status.DRAFT, "published": Event.Status.PUBLISHED, "cancelled": Event.Status.CANCELLED}
CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


@dataclass
class Problem:
    place: str  # where in the file: "D", "DTSTART", or "" for the whole row
    column: str
    message: str


@dataclass
class SpeakerRef:
    name: str
    affiliation: str
    speaker: Speaker | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.name.lower(), self.affiliation.lower())


@dataclass
class RowPlan:
    row: Row
    action: str = CREATE
    event: Event | None = None
    values: dict = field(default_factory=dict)
    speakers: list[SpeakerRef] = field(default_factory=list)
    venue: Venue | None = None
    new_venue: tuple[str, str] | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # What the preview says about a value read one way of two (a time in the repeated hour).
    notes: list[Problem] = field(default_factory=list)
    when_text: str = ""

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row.places.get(column, ""), column, message))
        self.action = ERROR

    def cell(self, name: str) -> str:
        return (self.row.cells.get(name) or "").strip()


@dataclass
class Plan:
    rows: list[RowPlan]
    new_speakers: dict = field(default_factory=dict)  # key -> SpeakerRef
    new_venues: dict = field(default_factory=dict)  # (room, building) lowercased -> (room, building, capacity)

    @property
    def ok(self) -> bool:
        return all(not row.problems for row in self.rows)

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)

    @property
    def problems(self) -> list[tuple[int, Problem]]:
        return [(row.row.number, problem) for row in self.rows for problem in row.problems]


def parse_date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text.replace("/", "-")[:10])


def parse_time(text: str) -> datetime.time:
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(text)
    hour, minute, half = int(match[1]), int(match[2] or 0), (match[3] or "").lower().replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if half == "pm" else 0)
    return datetime.time(hour, minute)


def _list(text: str) -> list[str]:
    return [" ".join(part.split()) for part in text.split(SEPARATOR)] if text.strip() else []


def _single_line(text: str) -> bool:
    return not any(ord(char) < 32 for char in text)


class _Lookups:
    """The rows' speakers, rooms and talks, fetched once for the whole file."""

    def __init__(self, series, rows, user):
        names = {name.lower() for row in rows for name in _list(row.cells.get("speakers", ""))}
        speakers = Speaker.objects.managed_by(user) if user is not None else Speaker.objects.all()
        self.speakers: dict[str, list[Speaker]] = {}
        # Found by their folded names, then compared in Python: SQLite's LOWER() leaves a capital it does not
        # know as it is, so "Zoë Núñez-Ångström" was never found again.
        folded = speakers.annotate(folded_name=Fold("name")).filter(folded_name__in={fold(name) for name in names})
        for speaker in folded.order_by("pk"):
            if speaker.name.lower() in names:
                self.speakers.setdefault(speaker.name.lower(), []).append(speaker)
        self.venues = list(Venue.objects.all())
        slugs = {row.cells.get("slug", "").strip() for row in rows} - {""}
        self.by_slug = {
            event.slug: event for event in Event.objects.filter(slug__in=slugs).prefetch_related("speakers")
        }
        self.by_start: dict[datetime.datetime, Event] = {}
        self.series = series
        self.active_registrations: dict[int, int] = {}

    def load_series_talks(self, starts):
        if not starts:
            return
        # A cancelled talk keeps its record: a row at its time is the talk that replaces it (a slug still finds it).
        talks = (
            Event.objects.filter(
                series=self.series,
                start__gte=min(starts) - datetime.timedelta(days=1),
                start__lte=max(starts) + datetime.timedelta(days=1),
            )
            .exclude(status=Event.Status.CANCELLED)
            .prefetch_related("speakers")
        )
        for event in talks:
            self.by_start.setdefault(event.start, event)

    def venue(self, room: str, building: str) -> list[Venue]:
        found = [venue for venue in self.venues if venue.room.lower() == room.lower()]
        if building:
            exact = [venue for venue in found if venue.building.lower() == building.lower()]
            # An .ics location may carry the address after the building.
            return exact or [
                venue for venue in found if venue.building and building.lower().startswith(venue.building.lower())
            ]
        return found


def plan_term(*, series, rows: list[Row], create_missing: bool = False, user=None) -> Plan:
    """The dry run of importing `rows` into `series`: one RowPlan per row, nothing written.

    `user` (staff) limits the speakers matched to those they may see. Never raises for bad
    input: every problem is a Problem of its row.
    """
    lookups = _Lookups(series, rows, user)
    plans = [RowPlan(row) for row in rows]
    for plan in plans:
        _read_values(plan, series, lookups, create_missing)
    lookups.load_series_talks([plan.values["start"] for plan in plans if "start" in plan.values])
    _count_registrations(lookups, plans)
    result = Plan(plans)
    seen_slugs, seen_starts = {}, {}
    for plan in plans:
        _match_talk(plan, series, lookups)
        if plan.event is None and not plan.problems:
            plan.action = CREATE
        for key, seen, label in (
            (plan.values.get("slug"), seen_slugs, "slug"),
            (plan.values.get("start"), seen_starts, "start"),
        ):
            if key is None:
                continue
            if key in seen:
                plan.problem(label, _("The same talk as row %(row)s.") % {"row": seen[key]})
            else:
                seen[key] = plan.row.number
        for ref in plan.speakers:
            if ref.speaker is None and create_missing:
                result.new_speakers.setdefault(ref.key, ref)
        if plan.new_venue is not None:
            room, building = plan.new_venue
            result.new_venues.setdefault(
                (room.lower(), building.lower()), (room, building, plan.values.get("capacity"))
            )
    return result


def _read_values(plan: RowPlan, series, lookups: _Lookups, create_missing: bool) -> None:
    values = plan.values
    title = " ".join(plan.cell("title").split())
    if not title:
        plan.problem("title", _("A talk needs a title."))
    elif len(title) > TITLE_MAX:
        plan.problem("title", _("Keep the title under %(max)s characters.") % {"max": TITLE_MAX})
    else:
        values["title"] = title
    if plan.cell("abstract"):
        values["abstract"] = plan.cell("abstract").replace("\r\n", "\n")

    attendance = plan.cell("attendance").lower().replace("-", "_")
    if attendance:
        if attendance not in ATTENDANCE:
            plan.problem("attendance", _("Write in_person, online or hybrid."))
        else:
            values["attendance_mode"] = ATTENDANCE[attendance]
    online_only = values.get("attendance_mode") == Event.AttendanceMode.ONLINE

    status = plan.cell("status").lower()
    if status:
        if status not in STATUSES:
            plan.problem("status", _("Write draft or published."))
        else:
            values["status"] = STATUSES[status]

    capacity = plan.cell("capacity")
    if capacity:
        try:
            values["capacity"] = int(capacity)
            if values["capacity"] < 0 or values["capacity"] > 100_000:
                raise ValueError(capacity)
        except ValueError:
            values.pop("capacity", None)
            plan.problem("capacity", _("Write the number of seats, e.g. 40."))

    known = lookups.by_slug.get(plan.cell("slug"))
    if known is not None and known.series_id == series.pk:
        plan.event = known
    _read_venue(plan, series, lookups, create_missing, online_only)
    _read_speakers(plan, lookups, create_missing)
    _read_times(plan, series)

    slug = plan.cell("slug")
    if slug:
        try:
            validate_slug(slug)
            if len(slug) > 120:
                raise ValidationError("too long")
        except ValidationError:
            plan.problem("slug", _("A slug has only letters, numbers, hyphens and underscores (at most 120)."))
        else:
            values["slug"] = slug


def _read_venue(plan, series, lookups, create_missing, online_only) -> None:
    room, building = " ".join(plan.cell("room").split()), " ".join(plan.cell("building").split())
    if not room:
        # A new talk takes the series' default room (checked in _match_talk); a changed one keeps its own.
        return
    if len(room) > ROOM_MAX or not _single_line(room) or len(building) > 200:
        plan.problem("room", _("Write the room on one line, in at most %(max)s characters.") % {"max": ROOM_MAX})
        return
    found = lookups.venue(room, building)
    if len(found) == 1:
        plan.venue = found[0]
    elif len(found) > 1:
        plan.problem("building", _("Several buildings have a room “%(room)s”: give the building.") % {"room": room})
    elif create_missing:
        if "capacity" not in plan.values:
            plan.problem("capacity", _("Give the capacity of the new room “%(room)s”.") % {"room": room})
        plan.new_venue = (room, building)
    else:
        plan.problem(
            "room",
            _("No room “%(room)s” yet: add it as a venue, or tick “create speakers and rooms not found”.")
            % {"room": f"{room}, {building}" if building else room},
        )


def _read_speakers(plan, lookups, create_missing) -> None:
    names, affiliations = _list(plan.cell("speakers")), _list(plan.cell("affiliations"))
    if len(affiliations) > len(names):
        plan.problem("affiliations", _("More affiliations than speakers."))
    for index, name in enumerate(names):
        affiliation = affiliations[index] if index < len(affiliations) else ""
        if not name:
            plan.problem("speakers", _("An empty speaker name (two semicolons in a row?)."))
            continue
        if len(name) > NAME_MAX or len(affiliation) > NAME_MAX or not _single_line(name + affiliation):
            plan.problem(
                "speakers",
                _("Keep each name and affiliation on one line, under %(max)s characters.") % {"max": NAME_MAX},
            )
            continue
        ref = SpeakerRef(name, affiliation)
        candidates = lookups.speakers.get(name.lower(), [])
        if affiliation:
            candidates = [speaker for speaker in candidates if speaker.affiliation.lower() == affiliation.lower()] or [
                speaker for speaker in candidates if not speaker.affiliation
            ]
        if len(candidates) == 1:
            ref.speaker = candidates[0]
        elif len(candidates) > 1:
            plan.problem(
                "affiliations", _("Several speakers are called “%(name)s”: give the affiliation.") % {"name": name}
            )
        elif not create_missing:
            plan.problem(
                "speakers",
                _("No speaker “%(name)s” yet: add them, or tick “create speakers and rooms not found”.")
                % {"name": name},
            )
        plan.speakers.append(ref)


def _zone(plan, series):
    """The clock of the row's times: its room's, else the talk's, else the series' default room's, else the site's."""
    if plan.new_venue is not None:
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
    venue = plan.venue or (plan.event.venue if plan.event is not None else None) or series.default_venue
    return zoneinfo.ZoneInfo(venue.time_zone if venue else settings.TIME_ZONE)


def _on_clock(plan: RowPlan, column: str, local: datetime.datetime, zone) -> datetime.datetime | None:
    """The wall time `local` (naive) on the clock of `zone`, or None and a problem of the row if it never shows.

    On the night the clocks go forward a time in the gap does not exist: zoneinfo would read it an hour
    off without a word. In the repeated hour of the night they go back, the first of the two is taken
    (fold 0, as Django's forms do), and the preview says so.
    """
    moment = local.replace(tzinfo=zone, fold=0)
    back = moment.astimezone(datetime.UTC).astimezone(zone)
    if back.replace(tzinfo=None) != local:
        plan.problem(
            column,
            _(
                "%(time)s does not exist on that day (%(date)s): the clocks go forward from %(before)s to "
                "%(after)s. Write the time as it will be shown on the clocks."
            )
            % {
                "time": local.strftime("%H:%M"),
                "date": local.date().isoformat(),
                # In the gap, fold 0 has the offset before the change and fold 1 the one after.
                "before": clock.zone_name(moment),
                "after": clock.zone_name(moment.replace(fold=1)),
            },
        )
        return None
    second = moment.replace(fold=1)
    if second.utcoffset() != moment.utcoffset():
        plan.notes.append(
            Problem(
                plan.row.places.get(column, ""),
                column,
                _(
                    "%(time)s comes twice on %(date)s (the clocks go back): read as the first, %(first)s, "
                    "not %(second)s."
                )
                % {
                    "time": local.strftime("%H:%M"),
                    "date": local.date().isoformat(),
                    "first": clock.time_text(moment),
                    "second": clock.time_text(second),
                },
            )
        )
    return moment


def _read_times(plan, series) -> None:
    values, zone = plan.values, _zone(plan, series)
    start = end = None
    if plan.cell("start_at"):
        start = datetime.datetime.fromisoformat(plan.cell("start_at"))
        if start.tzinfo is None:
            start = _on_clock(plan, "start", start, zone)
        if plan.cell("end_at"):
            end = datetime.datetime.fromisoformat(plan.cell("end_at"))
            end = end if end.tzinfo else _on_clock(plan, "end", end, zone)
            if end is None:
                return
    else:
        try:
            day = parse_date(plan.cell("date")) if plan.cell("date") else None
        except ValueError:
            day = None
            plan.problem("date", _("Write the date as 2027-01-19."))
        else:
            if day is None:
                plan.problem("date", _("A talk needs a date."))
        try:
            start_time = parse_time(plan.cell("start")) if plan.cell("start") else None
        except ValueError:
            start_time = None
            plan.problem("start", _("Write the start as 11:00 or 11:00 AM."))
        else:
            if start_time is None:
                plan.problem("start", _("A talk needs a start time."))
        if day and start_time:
            start = _on_clock(plan, "start", datetime.datetime.combine(day, start_time), zone)
        if plan.cell("end"):
            try:
                end_time = parse_time(plan.cell("end"))
            except ValueError:
                plan.problem("end", _("Write the end as 12:00 or 12:00 PM."))
            else:
                if day:
                    end = _on_clock(plan, "end", datetime.datetime.combine(day, end_time), zone)
                    if end is None:
                        return
    if start is None:
        return
    if end is None:
        end = start + datetime.timedelta(minutes=series.default_duration_minutes)
    if end <= start:
        plan.problem("end", _("The talk must end after it starts."))
        return
    values["start"], values["end"] = start, end
    opens = plan.cell("registration_opens")
    if opens:
        try:
            text = opens.replace("T", " ")
            day = parse_date(text[:10])
            moment = parse_time(text[10:].strip() or "00:00")
            opens_at = _on_clock(plan, "registration_opens", datetime.datetime.combine(day, moment), zone)
        except ValueError:
            plan.problem("registration_opens", _("Write when registration opens as 2027-01-12 09:00."))
        else:
            if opens_at is None:
                return
            values["registration_opens"] = opens_at
            if values["registration_opens"] >= start:
                plan.problem("registration_opens", _("Registration must open before the talk starts."))
    elif series.registration_opens_days_before is not None:
        values["default_registration_opens"] = shift_local(
            start, days=-series.registration_opens_days_before, zone=zone
        )


def _count_registrations(lookups, plans) -> None:
    ids = {event.pk for event in [*lookups.by_slug.values(), *lookups.by_start.values()]}
    if ids:
        rows = (
            Event.objects.filter(pk__in=ids)
            .annotate(n=Count("registrations", filter=~Q(registrations__status="cancelled")))
            .values_list("pk", "n")
        )
        lookups.active_registrations = dict(rows)


def _display(value) -> str:
    if value is None or value == "":
        return "–"
    return str(value)


def _match_talk(plan: RowPlan, series, lookups: _Lookups) -> None:
    values = plan.values
    event = None
    if "slug" in values:
        event = lookups.by_slug.get(values["slug"])
        if event is not None and event.series_id != series.pk:
            plan.problem("slug", _("This slug belongs to a talk of another series."))
            return
    elif "start" in values:
        event = lookups.by_start.get(values["start"])
    if "start" in values:
        stand_in = event or Event(venue=plan.venue, start=values["start"], end=values["end"])
        plan.when_text = when.talk_when(stand_in, style=when.SHORT) if event is None else ""
    if event is None:
        plan.event = None
        if values.get("status") == Event.Status.CANCELLED:
            plan.problem("status", _("A new talk cannot be cancelled: leave it out."))
        if plan.venue is None and plan.new_venue is None and not plan.cell("room"):
            plan.venue = series.default_venue
            if plan.venue is None and values.get("attendance_mode") != Event.AttendanceMode.ONLINE:
                plan.problem("room", _("Give the room: the series has no default room."))
        return
    plan.event = event
    if "start" in values:
        copy = Event(venue=plan.venue or event.venue, start=values["start"], end=values["end"])
        plan.when_text = when.talk_when(copy, style=when.SHORT)
    if plan.problems:
        return
    changes = []

    def compare(name, label, before, after, shown=_display):
        if after is not None and before != after:
            changes.append((name, str(label), shown(before), shown(after)))

    compare("title", _("title"), event.title, values.get("title"))
    # A browser sends a textarea's line breaks as CR LF, the row's are read as LF: the same abstract either way.
    abstract = event.abstract.replace("\r\n", "\n")
    compare("abstract", _("abstract"), abstract, values.get("abstract"), lambda text: (text or "–")[:80])
    moment = lambda moment: when.moment_text(event, moment, style=when.SHORT) if moment else "–"  # noqa: E731
    compare("start", _("start"), event.start, values.get("start"), moment)
    compare("end", _("end"), event.end, values.get("end"), moment)
    venue = plan.venue if (plan.cell("room") or plan.new_venue) else None
    if plan.new_venue is not None:
        changes.append(("venue", str(_("venue")), _display(event.venue), ", ".join(filter(None, plan.new_venue))))
    elif venue is not None:
        compare("venue", _("venue"), event.venue, venue)
    compare("capacity", _("capacity"), event.capacity, values.get("capacity"))
    compare("attendance_mode", _("attendance"), event.attendance_mode, values.get("attendance_mode"))
    compare(
        "registration_opens",
        _("registration opens"),
        event.registration_opens,
        values.get("registration_opens"),
        moment,
    )
    compare("status", _("status"), event.status, values.get("status"))
    if plan.cell("speakers"):
        before = [(speaker.name, speaker.affiliation) for speaker in event.speakers.all()]
        after = [
            (ref.name, ref.affiliation or (ref.speaker.affiliation if ref.speaker else "")) for ref in plan.speakers
        ]
        if [name.lower() for name, _aff in before] != [name.lower() for name, _aff in after] or any(
            ref.speaker is None for ref in plan.speakers
        ):
            changes.append(
                (
                    "speakers",
                    str(_("speakers")),
                    ", ".join(n for n, _a in before) or "–",
                    ", ".join(n for n, _a in after),
                )
            )
    plan.changes = [(label, before, after) for _name, label, before, after in changes]
    changed = {name for name, *_rest in changes}
    registered = lookups.active_registrations.get(event.pk, 0)
    if registered and changed & {"start", "end", "venue"}:
        plan.problem(
            "start" if changed & {"start", "end"} else "room",
            _("%(count)s people registered: move this talk on its own page, which asks whether to tell them.")
            % {"count": registered},
        )
    if "status" in changed and not (event.status == Event.Status.DRAFT and values["status"] == Event.Status.PUBLISHED):
        plan.problem("status", _("Only a draft can be published by an import; change other states on the talk's page."))
    if "capacity" in changed and values["capacity"] < event.seats_taken:
        plan.problem("capacity", _("%(taken)s people already hold a seat.") % {"taken": event.seats_taken})
    if not plan.problems:
        plan.action = UPDATE if changes else UNCHANGED

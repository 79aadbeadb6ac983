"""A term's talks as a spreadsheet, in the columns the import reads (export, edit, import again)."""

import datetime

import tablib
from django.utils.translation import gettext as _

from events.models import Event
from registrations.admin.export import csv_cell

from .columns import COLUMNS, NAMES, SEPARATOR

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def term_talks(series, start: datetime.date, end: datetime.date):
    """The talks of `series` whose local day is from `start` to `end`, drafts included."""
    zone = series.local_time_zone
    return (
        Event.objects.filter(
            series=series,
            start__gte=datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
            start__lt=datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone),
        )
        .select_related("venue")
        .prefetch_related("speakers")
        .order_by("start", "pk")
    )


def _local(event, moment, fmt) -> str:
    return moment.astimezone(event.local_time_zone).strftime(fmt) if moment else ""


def talk_row(event) -> list[str]:
    speakers = list(event.speakers.all())
    venue = event.venue
    values = {
        "date": _local(event, event.start, "%Y-%m-%d"),
        "start": _local(event, event.start, "%H:%M"),
        "end": _local(event, event.end, "%H:%M"),
        "title": event.title,
        "speakers": f"{SEPARATOR} ".join(speaker.name for speaker in speakers),
        "affiliations": f"{SEPARATOR} ".join(speaker.affiliation for speaker in speakers)
        if any(speaker.affiliation for speaker in speakers)
        else "",
        "room": venue.room if venue else "",
        "building": venue.building if venue else "",
        "capacity": str(event.capacity),
        "attendance": event.attendance_mode,
        "registration_opens": _local(event, event.registration_opens, "%Y-%m-%d %H:%M"),
        "status": event.status,
        "slug": event.slug,
        "abstract": event.abstract,
    }
    # No cell a spreadsheet would run as a formula; the import reads them back as typed.
    return [csv_cell(values[name]) for name in NAMES]


def term_dataset(events) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=NAMES, title=_("Talks"))
    for event in events:
        dataset.append(talk_row(event))
    return dataset


def template_book(kind: str) -> bytes:
    """An empty term with one example row; the XLSX also explains every column on a second sheet."""
    dataset = tablib.Dataset([column.example for column in COLUMNS], headers=NAMES, title=_("Talks"))
    if kind == "csv":
        return dataset.export("csv").encode("utf-8-sig")
    help_sheet = tablib.Dataset(
        *[(column.name, _("required") if column.required else "", str(column.help)) for column in COLUMNS],
        headers=[_("column"), _("required"), _("what to write")],
        title=_("Columns"),
    )
    return tablib.Databook([dataset, help_sheet]).export("xlsx")


def export(dataset: tablib.Dataset, kind: str) -> bytes:
    if kind == "csv":
        # With a byte order mark, so that Excel reads the accents right.
        return dataset.export("csv").encode("utf-8-sig")
    return dataset.export("xlsx")

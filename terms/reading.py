"""A term's file as rows of text: CSV and XLSX through tablib, .ics through icalendar.

Every row keeps its number as the organizer sees it (the spreadsheet's row,
the header being row 1; in an .ics file, the line its event starts on) and,
for each value, where it came from (a column letter, or a property name), so
that an error names both.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

import icalendar
import tablib
from django.conf import settings
from django.urls import NoReverseMatch, resolve
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .columns import NAMES, REQUIRED

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 500
FORMATS = {"csv": "CSV", "xlsx": "XLSX", "ics": "iCalendar (.ics)"}
# The cell separators a CSV file may use, the usual one first.
DELIMITERS = ",;\t"


class FileError(ValueError):
    """The file as a whole cannot be read: a message for the organizer."""


@dataclass
class Row:
    number: int
    cells: dict[str, str] = field(default_factory=dict)
    # Where each value is in the file: "D" (a spreadsheet column) or "DTSTART".
    places: dict[str, str] = field(default_factory=dict)

    def as_data(self) -> dict:
        return {"number": self.number, "cells": self.cells, "places": self.places}

    @classmethod
    def from_data(cls, data: dict) -> "Row":
        return cls(int(data["number"]), dict(data["cells"]), dict(data["places"]))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def file_format(name: str, content: bytes) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in FORMATS:
        return extension
    if content.startswith(b"PK"):
        return "xlsx"
    if content.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    return "csv"


def read(name: str, content: bytes) -> tuple[str, list[Row]]:
    """(format, rows) of an uploaded file. Raises FileError when it cannot be read as a term."""
    if len(content) > MAX_BYTES:
        raise FileError(_("The file is larger than 2 MB: split the term into smaller files."))
    kind = file_format(name, content)
    rows = _read_ics(content) if kind == "ics" else _read_table(kind, content)
    if not rows:
        raise FileError(_("The file has no talks in it."))
    if len(rows) > MAX_ROWS:
        raise FileError(_("The file has more than %(max)s talks: split it.") % {"max": MAX_ROWS})
    return kind, rows


def _text(value) -> str:
    """A cell as text: spreadsheets give dates, times and numbers as such."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # An exported cell protected from spreadsheet formulas ("'=...") reads as typed.
    if text[:2] in ("'=", "'+", "'-", "'@"):
        text = text[1:]
    return text


def _csv_records(content: bytes) -> tuple[list[list[str]], str]:
    """The CSV's records, blank lines included (the n-th record is the spreadsheet's row n), and its delimiter."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    # No text has a NUL in it (UTF-16 has one in every other byte), and PostgreSQL refuses to store one.
    if text is None or "\x00" in text:
        raise FileError(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8”."))
    delimiter = _delimiter(text)
    try:
        # tablib's reader drops blank lines, and with them the numbers of the rows after them.
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter
    except csv.Error as error:
        raise FileError(
            _("This %(format)s file cannot be read (%(reason)s).") % {"format": FORMATS["csv"], "reason": error}
        ) from None


def _delimiter(text: str) -> str:
    """What separates the CSV's cells: the one under which its first row names the most columns.

    Excel writes commas, or semicolons where a comma is the decimal mark (Spanish, German);
    some tools write tabs. A tie (a single column) is read with commas.
    """
    try:
        firsts = {
            delimiter: next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
            for delimiter in DELIMITERS
        }
    except csv.Error:
        return ","  # reading the whole file says what is wrong with it
    known = {
        delimiter: sum(_text(header).lower() in NAMES for header in headers) for delimiter, headers in firsts.items()
    }
    best = max(DELIMITERS, key=lambda delimiter: known[delimiter])  # the first of equals
    if any(_text(header) for header in firsts[best]) and not known[best]:
        raise FileError(
            _(
                "The first row of the CSV file names none of the columns (%(names)s), whether separated by "
                "commas, semicolons or tabs: copy the first row of the template."
            )
            % {"names": ", ".join(NAMES)}
        )
    return best


def _xlsx_records(content: bytes) -> list[list]:
    try:
        dataset = tablib.Dataset().load(io.BytesIO(content), format="xlsx")
    except Exception as error:  # tablib and openpyxl raise many kinds for a damaged file
        raise FileError(
            _("This %(format)s file cannot be read (%(reason)s).") % {"format": FORMATS["xlsx"], "reason": error}
        ) from None
    return [list(dataset.headers or []), *(list(values) for values in dataset)]


def _read_table(kind: str, content: bytes) -> list[Row]:
    records, delimiter = _csv_records(content) if kind == "csv" else (_xlsx_records(content), "")
    headers = [_text(header).lower() for header in (records[0] if records else [])]
    unknown = [header for header in headers if header and header not in NAMES]
    if unknown:
        raise FileError(
            _("Unknown columns: %(unknown)s. The columns are: %(names)s.")
            % {"unknown": ", ".join(unknown), "names": ", ".join(NAMES)}
        )
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        raise FileError(_("Columns missing: %(missing)s.") % {"missing": ", ".join(missing)})
    twice = [name for name in NAMES if headers.count(name) > 1]
    if twice:
        raise FileError(_("Columns named twice: %(names)s.") % {"names": ", ".join(twice)})
    places = {header: column_letter(index) for index, header in enumerate(headers) if header}
    rows, too_long = [], []
    for number, values in enumerate(records[1:], start=2):
        if any(_text(value) for value in values[len(headers) :]):
            too_long.append(str(number))
            continue
        values = [*values, *[""] * (len(headers) - len(values))]
        cells = {header: _text(value) for header, value in zip(headers, values, strict=False) if header}
        if any(cells.values()):
            rows.append(Row(number, cells, places))
    if too_long and delimiter in ";\t":
        # A semicolon (or tab) inside an unquoted cell starts another cell and moves the rest along.
        raise FileError(
            ngettext(
                "Row %(rows)s has more cells than the first row has columns: a cell with a %(separator)s in it "
                "(a list of names) needs double quotes around it.",
                "Rows %(rows)s have more cells than the first row has columns: a cell with a %(separator)s in it "
                "(a list of names) needs double quotes around it.",
                len(too_long),
            )
            % {"rows": ", ".join(too_long), "separator": _("semicolon") if delimiter == ";" else _("tab")}
        )
    if too_long:
        # In a CSV file, a comma inside an unquoted cell starts another cell and moves the rest along.
        raise FileError(
            ngettext(
                "Row %(rows)s has more cells than the first row has columns: a cell with a comma in it "
                "(a title, a list of names) needs double quotes around it.",
                "Rows %(rows)s have more cells than the first row has columns: a cell with a comma in it "
                "(a title, a list of names) needs double quotes around it.",
                len(too_long),
            )
            % {"rows": ", ".join(too_long)}
        )
    return rows


def _talk_slug(url: str) -> str:
    """The slug of a talk page of this site named by an event's URL, or ""."""
    site = settings.SITE_URL
    if not url.startswith(site + "/"):
        return ""
    try:
        match = resolve(url.removeprefix(site))
    except (NoReverseMatch, Exception):
        return ""
    return match.kwargs.get("slug", "") if match.view_name == "events:event_detail" else ""


def _read_ics(content: bytes) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise FileError(_("This .ics file cannot be read (%(reason)s).") % {"reason": error}) from None
    if "\x00" in text:  # as in a CSV file
        raise FileError(_("This .ics file is not UTF-8 text: export it again as UTF-8."))
    starts = [number for number, line in enumerate(text.splitlines(), 1) if line.strip() == "BEGIN:VEVENT"]
    rows, repeating = [], []
    for index, component in enumerate(calendar.walk("VEVENT")):
        number = starts[index] if index < len(starts) else index + 1
        row = Row(number)
        if component.get("rrule") is not None:
            # One row would stand for every occurrence: only the first would become a talk.
            repeating.append(str(number))

        def put(name, value, prop, row=row):
            row.cells[name], row.places[name] = value, prop

        put("title", " ".join(str(component.get("summary", "")).split()), "SUMMARY")
        put("abstract", str(component.get("description", "")).strip(), "DESCRIPTION")
        for name, prop in (("start", "DTSTART"), ("end", "DTEND")):
            value = component.get(prop)
            moment = value.dt if value is not None else None
            if isinstance(moment, datetime.datetime):
                put(f"{name}_at", moment.isoformat(), prop)
                put(name, moment.strftime("%H:%M"), prop)
                if name == "start":
                    put("date", moment.date().isoformat(), prop)
            elif isinstance(moment, datetime.date):
                put(name, "", prop)  # a whole day: no time to take
                if name == "start":
                    put("date", moment.isoformat(), prop)
            elif name == "start":
                put("date", "", prop)
        start, duration = component.get("dtstart"), component.get("duration")
        if "end_at" not in row.cells and "start_at" in row.cells and duration is not None:
            end = start.dt + duration.dt
            put("end_at", end.isoformat(), "DURATION")
            put("end", end.strftime("%H:%M"), "DURATION")
        if str(component.get("status", "")).upper() == "CANCELLED":
            put("status", "cancelled", "STATUS")
        location = " ".join(str(component.get("location", "")).split())
        room, _comma, building = location.partition(",")
        put("room", room.strip(), "LOCATION")
        put("building", building.strip(), "LOCATION")
        slug = _talk_slug(str(component.get("url", "")))
        if slug:
            put("slug", slug, "URL")
        rows.append(row)
    if repeating:
        raise FileError(
            ngettext(
                "The entry at line %(lines)s repeats (RRULE): give each talk its own calendar entry, "
                "or use the spreadsheet template.",
                "The entries at lines %(lines)s repeat (RRULE): give each talk its own calendar entry, "
                "or use the spreadsheet template.",
                len(repeating),
            )
            % {"lines": ", ".join(repeating)}
        )
    return rows

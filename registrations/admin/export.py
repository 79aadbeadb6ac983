"""The CSV export of registrations, safe to open in a spreadsheet and streamed whatever its size."""

import csv
from collections import Counter

from django.utils.translation import gettext_lazy as _

from events.models import Question
from events.when import CSV, moment_text, talk_when
from seminar_site.addresses import readable_address

from ..models import Answer, Registration

# Excel reads a CSV as UTF-8 only when it starts with the byte order mark; without it, "Zoë" shows as "ZoÃ«".
UTF8_BOM = "\ufeff"
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet will execute."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


class _Echo:
    """csv.writer needs a file; this one hands each line straight back to the response."""

    def write(self, value):
        return value


CSV_HEADER = [
    _("Talk"),
    _("Talk starts"),
    _("Name"),
    _("Email"),
    _("Affiliation"),
    _("Position"),
    _("Status"),
    _("Waiting list place"),
    _("Registered"),
    _("Checked in"),
    _("Cancelled"),
    _("Attends"),
    _("To confirm by"),
    _("Asked to confirm because"),
]


def question_columns(queryset) -> list[str]:
    """One column per question of the exported talks; talks asking the same question share its column."""
    questions = Question.objects.filter(event__in=queryset.values("event")).order_by("event__start", "position", "pk")
    return list(dict.fromkeys(question.label for question in questions))


def waitlist_places(queryset) -> dict[int, int]:
    """The place on its waiting list of every waiting registration of the talks in `queryset`, in one query.

    In person and online attendance have a waiting list each."""
    places, counted = {}, Counter()
    waiting = (
        Registration.objects.filter(event__in=queryset.values("event"))
        .waitlisted()
        .order_by("event_id", "attendance", "created_at", "pk")
        .values_list("event_id", "attendance", "pk")
    )
    for event_id, attendance, pk in waiting.iterator():
        counted[event_id, attendance] += 1
        places[pk] = counted[event_id, attendance]
    return places


def _choice_labels(field_name: str) -> dict[str, str]:
    """What get_<field>_display() shows for each value of a Registration field, in the active language."""
    return {value: str(label) for value, label in Registration._meta.get_field(field_name).flatchoices}


# The export's order; its answers are read in the same order and matched as both streams go.
EXPORT_ORDER = ("event__start", "created_at", "pk")


def csv_rows(queryset):
    """The CSV export, streamed: four queries and memory that does not grow with the rows (but for waiting places)."""
    writer = csv.writer(_Echo())
    questions = question_columns(queryset)
    yield UTF8_BOM + writer.writerow([csv_cell(value) for value in [*CSV_HEADER, *questions]])
    places = waitlist_places(queryset)
    registrations = queryset.select_related("event__venue").order_by(*EXPORT_ORDER).iterator(chunk_size=2000)
    answers = (
        Answer.objects.filter(registration__in=queryset.values("pk"))
        .select_related("question")
        .order_by(*(f"registration__{name}" for name in EXPORT_ORDER), "question__position", "question__pk")
        .iterator(chunk_size=2000)
    )
    answer = next(answers, None)
    talk_times = {}
    # Labels of the choices, translated once per export rather than once per row
    # (get_FOO_display hashes every choice of the field again on each call).
    positions, statuses, attendances, reasons = (
        _choice_labels(name) for name in ("position", "status", "attendance", "hold_reason")
    )
    for registration in registrations:
        given = {}
        while answer is not None and answer.registration_id == registration.pk:
            given.setdefault(answer.question.label, []).append(answer.display_value)
            answer = next(answers, None)
        event = registration.event
        if event.pk not in talk_times:
            talk_times[event.pk] = talk_when(event, style=CSV)
        yield writer.writerow(
            [
                csv_cell(value)
                for value in (
                    event.title,
                    talk_times[event.pk],
                    registration.name,
                    readable_address(registration.email),
                    registration.affiliation,
                    positions.get(registration.position, registration.position),
                    statuses.get(registration.status, registration.status),
                    places.get(registration.pk),
                    moment_text(event, registration.created_at, style=CSV),
                    moment_text(event, registration.checked_in_at, style=CSV),
                    moment_text(event, registration.cancelled_at, style=CSV),
                    attendances.get(registration.attendance, registration.attendance),
                    moment_text(event, registration.hold_until, style=CSV),
                    reasons.get(registration.hold_reason, registration.hold_reason),
                    *("; ".join(given.get(label, [])) for label in questions),
                )
            ]
        )

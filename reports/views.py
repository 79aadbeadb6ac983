"""Staff pages: the numbers of one talk and of one series, their charts (SVG) and figures (CSV).

Only the organizers of the series (and superusers) reach them; another
series' talk is a 404, as in the admin.
"""

import csv

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from events.models import Event, Series
from registrations.admin.export import UTF8_BOM, csv_cell
from registrations.models import Registration

from . import charts, figures, registry


def _event(request, pk):
    return get_object_or_404(Event.objects.managed_by(request.user).select_related("series", "venue"), pk=pk)


def _series(request, pk):
    return get_object_or_404(Series.objects.managed_by(request.user), pk=pk)


IN_PERSON = Registration.Attendance.IN_PERSON


def _modes(*, in_person: bool, online: bool) -> tuple[str, ...]:
    return tuple(
        mode for mode, offered in ((IN_PERSON, in_person), (Registration.Attendance.ONLINE, online)) if offered
    )


def _took_place(event, now=None) -> bool:
    """Over, and held: a cancelled talk's registrations stay confirmed, but nobody was missing from it."""
    return figures.is_over(event, now) and not event.is_cancelled


def event_tables(event, summary=None) -> list[figures.Table]:
    """The charts of a talk; a talk with online attendance counts the room and online apart first."""
    registrations = Registration.objects.filter(event=event)
    tables = []
    if event.has_online:
        summary = summary or _summary(registrations, over=_took_place(event) and event.has_in_person)
        tables.append(
            figures.by_attendance(
                summary,
                no_shows={IN_PERSON: summary["no_shows"]},
                modes=_modes(in_person=event.has_in_person, online=True),
            )
        )
    return [
        *tables,
        figures.sign_ups_over_time(event),
        figures.by_position(registrations),
        figures.by_affiliation(registrations),
        *registry.event_tables(event),
    ]


def _has_online(series) -> bool:
    return Event.objects.filter(series=series).exclude(attendance_mode=Event.AttendanceMode.IN_PERSON).exists()


def series_tables(series, *, online=None, summary=None, past_summary=None) -> list[figures.Table]:
    """The charts of a series; with talks attended online, the room and online apart (no-shows: talks that are over)."""
    online = _has_online(series) if online is None else online
    registrations = Registration.objects.filter(event__series=series)
    # Who came: asked of the talks that have taken place (upcoming ones would read "0 of 7 came").
    held = Event.objects.filter(series=series, start__lte=timezone.now()).exclude(status=Event.Status.CANCELLED)
    events = figures.with_counts(held.select_related("venue")).order_by("start", "pk")
    tables = [figures.attendance_per_talk(events, online=online)]
    if online:
        summary = summary or _summary(registrations, over=False)
        past_summary = past_summary or _summary(_past(series, timezone.now()), over=True)
        tables.append(
            figures.by_attendance(
                summary,
                no_shows={IN_PERSON: past_summary["no_shows"]},
                no_shows_label=_("No-shows (talks that are over)"),
            )
        )
    return [
        *tables,
        figures.by_position(registrations),
        figures.by_affiliation(registrations),
        *registry.series_tables(series),
    ]


def _past(series, now):
    """The registrations of the series' talks that took place (a cancelled talk's registrations stay confirmed)."""
    return Registration.objects.filter(event__series=series, event__end__lte=now).exclude(
        event__status=Event.Status.CANCELLED
    )


def _summary(registrations, *, over: bool) -> dict:
    numbers = figures.counts(registrations)
    numbers["no_shows"], numbers["no_show_rate"] = figures.no_shows(numbers, over=over)
    return numbers


@never_cache
@staff_member_required
def event_numbers(request, pk):
    event = _event(request, pk)
    # A cancelled talk has no no-shows to wait for: a dash, as for a talk over with nobody in the room.
    over = figures.is_over(event) or event.is_cancelled
    summary = _summary(Registration.objects.filter(event=event), over=_took_place(event) and event.has_in_person)
    return render(
        request,
        "reports/event_numbers.html",
        {
            "event": event,
            "summary": summary,
            "over": over,
            "split": event.has_online,
            "tables": event_tables(event, summary),
            "chart_url": "reports:event_chart",
            "csv_url": "reports:event_csv",
            "owner": event,
        },
    )


@never_cache
@staff_member_required
def series_numbers(request, pk):
    series = _series(request, pk)
    now = timezone.now()
    talks = list(
        figures.with_counts(Event.objects.filter(series=series).select_related("venue")).order_by("start", "pk")
    )
    for talk in talks:
        talk.no_shows, talk.no_show_rate = figures.no_shows(
            {key: getattr(talk, key) for key in ("in_person_confirmed", "in_person_checked_in")},
            over=_took_place(talk, now) and talk.has_in_person,
        )
    for talk in talks:
        # Per cell: the figure, and for a hybrid talk the room and online apart.
        talk.cells = [
            (
                getattr(talk, key),
                (getattr(talk, f"in_person_{key}"), getattr(talk, f"online_{key}"))
                if talk.attendance_mode == Event.AttendanceMode.HYBRID
                else None,
            )
            for key in figures.KEYS
        ]
    online = any(talk.has_online for talk in talks)
    summary = _summary(Registration.objects.filter(event__series=series), over=False)
    past_summary = _summary(_past(series, now), over=True)
    return render(
        request,
        "reports/series_numbers.html",
        {
            "series": series,
            "summary": summary,
            "past_summary": past_summary,
            "talks": talks,
            "split": online,
            "tables": series_tables(series, online=online, summary=summary, past_summary=past_summary),
            "chart_url": "reports:series_chart",
            "csv_url": "reports:series_csv",
            "owner": series,
        },
    )


def _table(tables, slug) -> figures.Table:
    for table in tables:
        if table.slug == slug:
            return table
    raise Http404


def _svg(table) -> HttpResponse:
    if not table.has_chart:
        raise Http404("This table has no chart.")
    response = HttpResponse(charts.render_svg(table), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def _csv(table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response.write(UTF8_BOM)
    writer = csv.writer(response)
    writer.writerow([csv_cell(column) for column in table.columns])
    for row in table.rows:
        # None is an empty cell: a figure that does not apply (online places have no check-in) or is not known yet.
        writer.writerow([csv_cell(value) for value in row])
    return response


@staff_member_required
def event_chart(request, pk, slug):
    return _svg(_table(event_tables(_event(request, pk)), slug))


@staff_member_required
def event_csv(request, pk, slug):
    event = _event(request, pk)
    return _csv(_table(event_tables(event), slug), f"{event.slug}-{slug}.csv")


@staff_member_required
def series_chart(request, pk, slug):
    return _svg(_table(series_tables(_series(request, pk)), slug))


@staff_member_required
def series_csv(request, pk, slug):
    series = _series(request, pk)
    return _csv(_table(series_tables(series), slug), f"{series.slug}-{slug}.csv")

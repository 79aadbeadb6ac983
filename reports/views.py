"""Staff pages: the numbers of one talk and of one series, their charts (SVG) and figures (CSV).

Only the organizers of the series (and superusers) reach them; another
series' talk is a 404, as in the admin.
"""

import csv

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from events.models import Event, Series
from registrations.admin import csv_cell
from registrations.models import Registration

from . import charts, figures


def _event(request, pk):
    return get_object_or_404(Event.objects.managed_by(request.user).select_related("series", "venue"), pk=pk)


def _series(request, pk):
    return get_object_or_404(Series.objects.managed_by(request.user), pk=pk)


def event_tables(event) -> list[figures.Table]:
    registrations = Registration.objects.filter(event=event)
    return [
        figures.sign_ups_over_time(event),
        figures.by_position(registrations),
        figures.by_affiliation(registrations),
    ]


def series_tables(series) -> list[figures.Table]:
    registrations = Registration.objects.filter(event__series=series)
    events = figures.with_counts(Event.objects.filter(series=series).select_related("venue")).order_by("start", "pk")
    return [
        figures.attendance_per_talk(events),
        figures.by_position(registrations),
        figures.by_affiliation(registrations),
    ]


def _summary(registrations, *, over: bool) -> dict:
    numbers = figures.counts(registrations)
    numbers["no_shows"], numbers["no_show_rate"] = figures.no_shows(numbers, over=over)
    return numbers


@never_cache
@staff_member_required
def event_numbers(request, pk):
    event = _event(request, pk)
    over = figures.is_over(event)
    return render(
        request,
        "reports/event_numbers.html",
        {
            "event": event,
            "summary": _summary(Registration.objects.filter(event=event), over=over),
            "over": over,
            "tables": event_tables(event),
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
            {"confirmed": talk.confirmed, "checked_in": talk.checked_in}, over=figures.is_over(talk, now)
        )
    past = Registration.objects.filter(event__series=series, event__end__lte=now)
    return render(
        request,
        "reports/series_numbers.html",
        {
            "series": series,
            "summary": _summary(Registration.objects.filter(event__series=series), over=False),
            "past_summary": _summary(past, over=True),
            "talks": talks,
            "tables": series_tables(series),
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
    response = HttpResponse(charts.render_svg(table), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def _csv(table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow([csv_cell(column) for column in table.columns])
    for row in table.rows:
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

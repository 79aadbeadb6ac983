"""Staff pages for posters: a talk's poster, a series' posters page and its term page (PDF).

Organizers of the series (and superusers) only; another series' talk is a 404.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.models import Event, Series

from . import pdf

PAPER_CHOICES = [("letter", _("Letter (8.5 × 11 in)")), ("a4", _("A4 (210 × 297 mm)"))]


def default_paper() -> str:
    return settings.POSTER_PAPER if settings.POSTER_PAPER in pdf.PAPERS else "letter"


class TermForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    paper = forms.ChoiceField(label=_("Paper"), choices=PAPER_CHOICES)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError(_("The end date comes before the start date."), code="end_before_start")
            if (data["end"] - data["start"]).days > 366:
                raise forms.ValidationError(_("Choose at most a year."), code="too_long")
        return data


def _paper(request) -> str:
    paper = request.GET.get("paper") or default_paper()
    if paper not in pdf.PAPERS:
        raise Http404
    return paper


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@never_cache
@staff_member_required
@require_GET
def talk(request, pk):
    event = get_object_or_404(
        Event.objects.managed_by(request.user).select_related("series", "venue").prefetch_related("speakers__photo"),
        pk=pk,
    )
    paper = _paper(request)
    return _pdf_response(pdf.talk_poster(event, paper=paper), f"poster-{event.slug}-{paper}.pdf")


def _term_initial(series) -> dict:
    today = timezone.localdate()
    last = Event.objects.filter(series=series).published().upcoming().order_by("-start").values_list("start", flat=True)
    end = timezone.localdate(last[0]) if last else today + datetime.timedelta(days=120)
    return {"start": today, "end": max(end, today), "paper": default_paper()}


def _coming(series):
    """The talks a poster is offered for: coming, drafts included, not cancelled."""
    return Event.objects.filter(series=series).exclude(status=Event.Status.CANCELLED).upcoming().select_related("venue")


@never_cache
@staff_member_required
@require_GET
def series(request, pk):
    """A series' posters: each coming talk's, in either paper size, and the page of a term's talks."""
    series = get_object_or_404(Series.objects.managed_by(request.user), pk=pk)
    return render(
        request,
        "posters/series.html",
        {
            "series": series,
            "events": _coming(series),
            "form": TermForm(initial=_term_initial(series)),
            "papers": PAPER_CHOICES,
        },
    )


@never_cache
@staff_member_required
@require_GET
def term(request, pk):
    series = get_object_or_404(Series.objects.managed_by(request.user), pk=pk)
    form = TermForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "posters/series.html",
            {"series": series, "events": _coming(series), "form": form, "papers": PAPER_CHOICES},
            status=400,
        )
    start, end, paper = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["paper"]
    zone = series.local_time_zone
    events = (
        Event.objects.filter(series=series)
        .published()
        .filter(
            start__gte=datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
            start__lt=datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone),
        )
        .select_related("venue")
        .prefetch_related("speakers")
        .order_by("start", "pk")
    )
    content = pdf.term_poster(series, events, start=start, end=end, paper=paper)
    return _pdf_response(content, f"talks-{series.slug}-{start}-{end}-{paper}.pdf")

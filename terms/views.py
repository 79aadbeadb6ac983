"""Staff pages: import a term's talks (upload, preview of every row, confirm), export them, the template.

Organizers of the series (and superusers) only. Nothing is written before
the organizer confirms a preview without problems; the confirmed rows travel
signed in the form, bound to the series and the organizer, and are checked
again when imported.
"""

import datetime

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from events.models import Event, Series

from . import export as exporting
from . import services
from .columns import COLUMNS
from .forms import ExportForm, ImportForm
from .plan import plan_term
from .reading import FORMATS, MAX_BYTES, FileError, Row, read

# How long a preview may wait for its confirmation.
PREVIEW_MAX_AGE = 60 * 60


def _series(request, pk, *, permissions=()) -> Series:
    if not all(request.user.has_perm(permission) for permission in permissions):
        raise Http404
    return get_object_or_404(Series.objects.managed_by(request.user), pk=pk)


def _salt(series, user) -> str:
    return f"terms.import:{series.pk}:{user.pk}"


def _page(request, series, form, *, plan=None, payload="", file_format="", status=200):
    return render(
        request,
        "terms/import.html",
        {
            "series": series,
            "form": form,
            "plan": plan,
            "summary": plan
            and {
                "create": plan.count("create"),
                "update": plan.count("update"),
                "unchanged": plan.count("unchanged"),
                "speakers": len(plan.new_speakers),
                "venues": len(plan.new_venues),
            },
            "payload": payload,
            "file_format": FORMATS.get(file_format, ""),
            "columns": COLUMNS,
        },
        status=status,
    )


@never_cache
@staff_member_required
@require_http_methods(["GET", "POST"])
def import_term(request, pk):
    series = _series(request, pk, permissions=["events.add_event", "events.change_event"])
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request, series)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return _page(request, series, form, status=200 if request.method == "GET" else 400)
    upload = form.cleaned_data["file"]
    try:
        # One byte past the limit is enough to refuse a file that is too large.
        kind, rows = read(upload.name, upload.read(MAX_BYTES + 1))
    except FileError as error:
        form.add_error("file", str(error))
        return _page(request, series, form, status=400)
    create_missing = form.cleaned_data["create_missing"]
    plan = plan_term(series=series, rows=rows, create_missing=create_missing, user=request.user)
    payload = signing.dumps(
        {"rows": [row.as_data() for row in rows], "create_missing": create_missing},
        salt=_salt(series, request.user),
        compress=True,
    )
    return _page(request, series, form, plan=plan, payload=payload if plan.ok else "", file_format=kind)


def _confirm(request, series):
    try:
        data = signing.loads(request.POST.get("rows", ""), salt=_salt(series, request.user), max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, _("This preview expired or was changed: upload the file again."))
        return redirect("terms:import", pk=series.pk)
    rows = [Row.from_data(row) for row in data["rows"]]
    try:
        plan = services.import_term(series=series, rows=rows, create_missing=data["create_missing"], actor=request.user)
    except services.TermImportError as error:
        return _page(request, series, ImportForm(), plan=error.plan, status=400)
    created, changed = plan.count("create"), plan.count("update")
    messages.success(
        request,
        ngettext("%(count)d talk created", "%(count)d talks created", created) % {"count": created}
        + ", "
        + ngettext("%(count)d changed", "%(count)d changed", changed) % {"count": changed}
        + ".",
    )
    return redirect(reverse("admin:events_event_changelist") + f"?series__id__exact={series.pk}")


def _default_range(series) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    last = (
        Event.objects.filter(series=series, start__gte=timezone.now())
        .order_by("-start")
        .values_list("start", flat=True)
    )
    end = timezone.localdate(last[0]) if last else today + datetime.timedelta(days=120)
    return today, max(end, today)


@never_cache
@staff_member_required
@require_GET
def export_term(request, pk):
    series = _series(request, pk, permissions=["events.view_event"])
    if "format" not in request.GET:
        start, end = _default_range(series)
        form = ExportForm(initial={"start": start, "end": end, "format": "xlsx"})
        return render(request, "terms/export.html", {"series": series, "form": form})
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "terms/export.html", {"series": series, "form": form}, status=400)
    start, end, kind = (form.cleaned_data[name] for name in ("start", "end", "format"))
    dataset = exporting.term_dataset(exporting.term_talks(series, start, end))
    response = HttpResponse(exporting.export(dataset, kind), content_type=exporting.CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="talks-{series.slug}-{start}-{end}.{kind}"'
    return response


@never_cache
@staff_member_required
@require_GET
def template(request, kind):
    if kind not in exporting.CONTENT_TYPES:
        raise Http404
    response = HttpResponse(exporting.template_book(kind), content_type=exporting.CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="talks-template.{kind}"'
    return response

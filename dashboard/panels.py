"""The dashboard's own parts, about talks alone: drafts not yet published, and the links to edit."""

from collections import defaultdict

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event

from . import registry

# The most drafts a series' section lists; the rest are one click away.
DRAFTS_SHOWN = 10


def drafts(request, series) -> dict:
    """Drafts of each series that are not over, soonest first (one query)."""
    rows = (
        Event.objects.filter(series__in=series, status=Event.Status.DRAFT, end__gt=timezone.now())
        .select_related("venue")
        .order_by("start", "pk")
    )
    grouped = defaultdict(list)
    for event in rows:
        grouped[event.series_id].append(event)
    changelist = reverse("admin:events_event_changelist")
    return {
        pk: {
            "events": events[:DRAFTS_SHOWN],
            "more": len(events) - DRAFTS_SHOWN,
            "all_url": f"{changelist}?series__id__exact={pk}&status__exact=draft",
        }
        for pk, events in grouped.items()
    }


def register() -> None:
    registry.register_panel(
        "dashboard.drafts",
        label=_("Drafts not yet published"),
        template_name="dashboard/panels/drafts.html",
        load=drafts,
        order=20,
    )
    registry.register_talk_link("dashboard.edit", label=_("Edit"), url_name="admin:events_event_change", order=90)
    registry.register_series_link(
        "dashboard.add", label=_("Add a talk"), url_name="admin:events_event_add", query="series={pk}", order=10
    )
    registry.register_series_link(
        "dashboard.series", label=_("Series settings"), url_name="admin:events_series_change", order=90
    )

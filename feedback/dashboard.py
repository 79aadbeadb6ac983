"""The dashboard's recent talks: per series, the talks of the last month with who came and what they thought.

A talk stays here while its attendees may still rate it (services.ANSWER_WINDOW).
Every figure is an annotation of one query over all the series' recent talks,
counted as the numbers pages count them (reports.figures), so the two agree.
"""

from collections import defaultdict

from django.db.models import Avg, Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import registry
from events.models import Event
from reports import figures

from .services import ANSWER_WINDOW

# The most recent talks a series' section lists; the talk list has the rest.
TALKS_SHOWN = 5


def recent_talks(request, series) -> dict:
    """The last TALKS_SHOWN talks of each series that ended within ANSWER_WINDOW, latest first (two queries)."""
    now = timezone.now()
    recent = Event.objects.filter(
        series__in=series, status=Event.Status.PUBLISHED, end__lte=now, end__gt=now - ANSWER_WINDOW
    )
    totals = dict(recent.order_by().values("series").annotate(n=Count("pk")).values_list("series", "n"))
    rows = (
        figures.with_counts(recent.select_related("venue"))
        .annotate(
            # One answer per registration (a constraint): joining them counts no registration twice.
            answers=Count("registrations__feedback"),
            rating=Avg("registrations__feedback__rating"),
            place=Window(RowNumber(), partition_by=F("series_id"), order_by=[F("end").desc(), F("pk").desc()]),
        )
        .filter(place__lte=TALKS_SHOWN)
        .order_by("-end", "-pk")
    )
    roles = {item.pk: item.role for item in series}
    grouped = defaultdict(list)
    for event in rows:
        event.cells = _cells(event)
        event.dashboard_links = registry.talk_links(event, roles[event.series_id])
        grouped[event.series_id].append(event)
    changelist = reverse("admin:events_event_changelist")
    return {
        item.pk: {
            "columns": [_("Came"), _("No-shows"), _("Online")],
            "events": grouped[item.pk],
            "more": totals.get(item.pk, 0) - len(grouped[item.pk]),
            "all_url": f"{changelist}?series__id__exact={item.pk}&when=past",
        }
        for item in series
        if grouped[item.pk]
    }


def _cells(event) -> list[str]:
    """Came (of those confirmed in the room), no-shows (and their share), online; a dash for a side not held."""
    confirmed, came = event.in_person_confirmed, event.in_person_checked_in
    missing, share = figures.no_shows({"in_person_confirmed": confirmed, "in_person_checked_in": came}, over=True)
    in_the_room = [f"{came} / {confirmed}", f"{missing} ({share:.0%})" if missing else "0"]
    return [
        *(in_the_room if event.has_in_person else ["–", "–"]),
        str(event.online_confirmed) if event.has_online else "–",
    ]


def register() -> None:
    registry.register_panel(
        "feedback.recent_talks",
        label=_("Recent talks"),
        template_name="dashboard/panels/recent_talks.html",
        load=recent_talks,
        order=15,
    )

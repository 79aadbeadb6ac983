"""The dashboard's coming talks: per series, each talk with its seats, waiting list, online places and check-ins.

Every count is an annotation of one query over all the series' coming talks:
a registration state is one entry of COUNTS, and the dashboard shows a column
per entry.
"""

from collections import defaultdict

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import registry
from events.models import Event
from events.scoping import CHECK_IN_ROLES

from .models import Registration

Status, Attendance = Registration.Status, Registration.Attendance
# The most coming talks a series' section lists; the talk list has the rest.
TALKS_SHOWN = 12

# {column: (its heading, the registrations it counts)}; "registered" is shown against the capacity,
# "held" next to it: seats taken until their people confirm by email (services/holds.py).
COUNTS = {
    "registered": (_("Registered"), {"status": Status.CONFIRMED, "attendance": Attendance.IN_PERSON}),
    "held": (_("Held"), {"status": Status.HELD}),
    "waiting": (_("Waiting"), {"status": Status.WAITLISTED}),
    "online": (_("Online"), {"status": Status.CONFIRMED, "attendance": Attendance.ONLINE}),
    "checked_in": (_("Checked in"), {"status": Status.CONFIRMED, "checked_in_at__isnull": False}),
}


def with_dashboard_counts(events):
    """`events` annotated with `count_<column>` for every column of COUNTS (no extra query)."""
    return events.annotate(
        **{
            f"count_{key}": Count("registrations", filter=Q(**{f"registrations__{k}": v for k, v in lookups.items()}))
            for key, (_label, lookups) in COUNTS.items()
        }
    )


def coming_talks(request, series) -> dict:
    """The next TALKS_SHOWN published talks of each series, with their counts, in two queries in all."""
    now = timezone.now()
    coming = Event.objects.filter(series__in=series, status=Event.Status.PUBLISHED, end__gt=now)
    totals = dict(coming.order_by().values("series").annotate(n=Count("pk")).values_list("series", "n"))
    rows = (
        with_dashboard_counts(coming.select_related("venue"))
        .annotate(place=Window(RowNumber(), partition_by=F("series_id"), order_by=[F("start").asc(), F("pk").asc()]))
        .filter(place__lte=TALKS_SHOWN)
        .order_by("start", "pk")
    )
    roles = {item.pk: item.role for item in series}
    grouped = defaultdict(list)
    for event in rows:
        event.cells = [_cell(event, key) for key in COUNTS]
        event.dashboard_links = registry.talk_links(event, roles[event.series_id])
        grouped[event.series_id].append(event)
    changelist = reverse("admin:events_event_changelist")
    columns = [label for label, _lookups in COUNTS.values()]
    return {
        item.pk: {
            "columns": columns,
            "events": grouped[item.pk],
            "more": totals.get(item.pk, 0) - len(grouped[item.pk]),
            "now": now,
            "all_url": f"{changelist}?series__id__exact={item.pk}&when=upcoming",
        }
        for item in series
    }


def _cell(event, key) -> dict:
    """What the column `key` shows for `event`: its count, against the capacity where there is one."""
    count = getattr(event, f"count_{key}")
    if key == "registered" and event.has_in_person:
        return {"text": f"{count} / {event.capacity}", "full": count >= event.capacity}
    if key == "online" and event.has_online and event.online_capacity is not None:
        return {"text": f"{count} / {event.online_capacity}", "full": count >= event.online_capacity}
    if (key == "registered" and not event.has_in_person) or (key == "online" and not event.has_online):
        return {"text": "–", "full": False}
    return {"text": str(count), "full": False}


def register() -> None:
    registry.register_panel(
        "registrations.coming_talks",
        label=_("Coming talks"),
        template_name="dashboard/panels/coming_talks.html",
        load=coming_talks,
        order=10,
        roles=CHECK_IN_ROLES,
    )

"""Importing a term: every row or none."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from events.models import Event, Series, Speaker, Venue
from events.services import unique_slug
from seminar_site.errors import DomainError

from .plan import CREATE, UPDATE, Plan, plan_term
from .reading import Row

# Where a model field's error belongs in the file.
_COLUMNS = {"title": "title", "slug": "slug", "start": "start", "end": "end", "venue": "room", "capacity": "capacity"}


class TermImportError(DomainError):
    """Some row cannot be imported; `plan` says which and why. Nothing was written."""

    def __init__(self, plan: Plan):
        super().__init__(
            _("Nothing was imported: %(count)s problems.") % {"count": len(plan.problems)}, code="invalid_rows"
        )
        self.plan = plan


@transaction.atomic
def import_term(*, series, rows: list[Row], create_missing: bool = False, actor=None) -> Plan:
    """Create and change the talks of `rows` in `series`, as `plan_term` previews them, in one transaction.

    New talks are drafts unless their row says "published". Speakers and rooms
    not found are created only with `create_missing`. The rows are planned
    again here, against the database as it is now: raises TermImportError, and
    writes nothing, when any row has a problem (another row's problem included).
    Imports into one series take turns (its row locked): a preview confirmed twice at once (a double click)
    finds the talks of the first and changes nothing.
    """
    Series.objects.select_for_update().get(pk=series.pk)
    plan = plan_term(series=series, rows=rows, create_missing=create_missing, user=actor)
    if not plan.ok:
        raise TermImportError(plan)
    venues = {
        key: Venue.objects.create(room=room, building=building, default_capacity=capacity or 0)
        for key, (room, building, capacity) in plan.new_venues.items()
    }
    speakers = {
        key: Speaker.objects.create(name=ref.name, affiliation=ref.affiliation)
        for key, ref in plan.new_speakers.items()
    }
    for row in plan.rows:
        if row.action not in (CREATE, UPDATE):
            continue
        venue = row.venue
        if row.new_venue is not None:
            venue = venues[(row.new_venue[0].lower(), row.new_venue[1].lower())]
        event = row.event if row.action == UPDATE else Event(series=series, status=Event.Status.DRAFT)
        values = dict(row.values)
        opens_by_rule = values.pop("default_registration_opens", None)
        if row.action == CREATE and "registration_opens" not in values:
            values["registration_opens"] = opens_by_rule
        if row.action == CREATE and "capacity" not in values and series.default_capacity is not None:
            values["capacity"] = series.default_capacity
        for name, value in values.items():
            setattr(event, name, value)
        if venue is not None:
            event.venue = venue
        if row.action == CREATE and not event.slug:
            event.slug = unique_slug(f"{series.slug}-{event.local_start.date().isoformat()}")
        try:
            event.full_clean(exclude=["speakers"], validate_unique=True)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    row.problem(_COLUMNS.get(field, ""), message)
            raise TermImportError(plan) from None
        event.save()
        if row.speakers or row.action == CREATE:
            event.speakers.set([ref.speaker or speakers[ref.key] for ref in row.speakers])
        row.event = event
    return plan

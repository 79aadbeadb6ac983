"""The materials of talks as `events.materials` hands them to pages, feeds, listings and digests."""

from collections import defaultdict

from events.models import Event
from events.scoping import CHECK_IN_ROLES

from .models import Material, Visibility


class MaterialSource:
    """Registered with `events.materials` in apps.py."""

    def of_events(self, event_ids, *, user=None):
        materials = Material.objects.filter(event_id__in=event_ids)
        staffed = []
        if user is not None and user.is_authenticated and user.is_staff:
            # Staff of a series (organizers and door staff) see everything of its talks.
            staffed = list(
                Event.objects.managed_by(user, roles=CHECK_IN_ROLES)
                .filter(pk__in=event_ids)
                .values_list("pk", flat=True)
            )
        public = materials.public()
        found = defaultdict(list)
        for material in (materials.filter(event_id__in=staffed) | public).order_by("created_at", "pk"):
            found[material.event_id].append(material.as_talk_material())
        return found

    def added_between(self, *, series_id, start, end, kinds):
        materials = Material.objects.public().filter(
            event__series_id=series_id, kind__in=kinds, public_since__gte=start, public_since__lt=end
        )
        return [material.as_talk_material() for material in materials.order_by("public_since", "pk")]


def visible(material: Material, user) -> bool:
    """May `user` (anyone, signed in or not) see `material` without a registrant's link?"""
    if material.visibility == Visibility.PUBLIC and material.event.status in (
        Event.Status.PUBLISHED,
        Event.Status.CANCELLED,
    ):
        return True
    return Event.objects.managed_by(user, roles=CHECK_IN_ROLES).filter(pk=material.event_id).exists()

"""Per-series staff scoping: a staff user sees and changes only the objects of the series they work for.

The rule itself is `scope_to_series` (in `events.models`), reached through a
`managed_by(user, roles=...)` method on the QuerySet of every series-owned model
(Series, Event, Speaker, Registration, ...). `SeriesScopedAdminMixin` (first
among the bases of their ModelAdmins; see `seminar_site.scoping`) applies it to
the admin. Staff pages outside the admin: `staff_member_required` plus
`Model.objects.managed_by(request.user, roles=...)` in `get_object_or_404`.
"""

from seminar_site.scoping import ScopedAdminMixin as SeriesScopedAdminMixin
from seminar_site.scoping import is_scoped, scoped_form_class, view_on_site

from .models import SeriesMember, scope_to_series

ORGANIZER = SeriesMember.Role.ORGANIZER
DOOR = SeriesMember.Role.DOOR
# Who may work the door of a talk: its organizers and its door staff.
CHECK_IN_ROLES = (ORGANIZER, DOOR)

__all__ = [
    "CHECK_IN_ROLES",
    "DOOR",
    "ORGANIZER",
    "SeriesScopedAdminMixin",
    "is_scoped",
    "scope_to_series",
    "scoped_form_class",
    "view_on_site",
]

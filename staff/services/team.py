from django.db import transaction
from django.utils.translation import gettext as _

from events.models import SeriesMember

from .errors import StaffError
from .invitations import may_manage_team

Role = SeriesMember.Role


def _check(member: SeriesMember, actor) -> None:
    if not may_manage_team(actor, member.series):
        raise StaffError(_("Only the organizers of this series can change its team."), code="not_allowed")
    if member.user_id == actor.pk and not actor.is_superuser:
        raise StaffError(
            _("You cannot change your own place on the team: ask another organizer."), code="own_membership"
        )


def change_role(*, member: SeriesMember, role: str, actor) -> bool:
    """Give a team member another role; the change is logged (staff.receivers). False when it is their role already.

    Raises StaffError: "not_allowed" unless `actor` organizes the series (or is
    a superuser); "own_membership" for an organizer changing their own role;
    "invalid_role".
    """
    _check(member, actor)
    if role not in Role.values:
        raise StaffError(_("Choose a role: organizer or door staff."), code="invalid_role")
    if member.role == role:
        return False
    member.role = role
    member.save()
    return True


def remove_member(*, member: SeriesMember, actor) -> None:
    """Take someone off a series' team: their access to it ends at once, and every session of theirs ends.

    staff.receivers does what any removal does (the admin's too): the log
    entry, the sessions, the staff flag and groups of someone left on no team.
    Raises StaffError "not_allowed" or "own_membership", as change_role.
    """
    _check(member, actor)
    with transaction.atomic():
        member.delete()

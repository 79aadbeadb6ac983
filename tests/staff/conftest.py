import pytest
from django.contrib.auth.models import Group, Permission

from events.models import SeriesMember
from staff import services
from tests.idp.fixtures import oidc_provider, saml_idp, sso  # noqa: F401 (fixtures)

# What the staff of these tests who sign in with a password type.
PASSWORD = "correct horse battery"


@pytest.fixture
def organizer(series, make_team_member):
    return make_team_member(series, "olivia")


@pytest.fixture
def olivia(organizer):
    """The organizer, with a password (PASSWORD)."""
    organizer.set_password(PASSWORD)
    organizer.save()
    return organizer


@pytest.fixture
def door_group(db):
    # Door staff hold the check-in permission through their group (created by migrations;
    # transactional tests flush it).
    group, _created = Group.objects.get_or_create(name=SeriesMember.ROLE_GROUPS[SeriesMember.Role.DOOR])
    group.permissions.add(Permission.objects.get(codename="check_in_registration"))
    return group


@pytest.fixture
def invite(organizer):
    """An invitation sent by the organizer of `series`: invite(email, role)."""

    def invite(email, role=SeriesMember.Role.DOOR, *, series=None, by=None):
        return services.invite(
            series=series or organizer.series_memberships.get().series, email=email, role=role, actor=by or organizer
        )

    return invite

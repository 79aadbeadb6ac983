"""Staff accounts for tests that sign in with force_login: no password, so nothing to hash (hashing costs a second)."""

from django.contrib.auth import get_user_model

from events.models import SeriesMember


def member(series, username, role=SeriesMember.Role.ORGANIZER):
    """A team member of `series` as the series' admin page makes one (staff, in the role's group)."""
    user = get_user_model().objects.filter(username=username).first() or get_user_model().objects.create_user(username)
    SeriesMember.objects.create(series=series, user=user, role=role)
    user.refresh_from_db()
    return user

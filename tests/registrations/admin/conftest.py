import pytest


@pytest.fixture
def organizer(client, make_team_member, series):
    """A staff member of the series team in the organizer role, logged in on `client`."""
    user = make_team_member(series, "organizer")
    client.force_login(user)
    return user

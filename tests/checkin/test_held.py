"""A person whose seat is held until they confirm by email, at the door: listed as such, checked in on the spot."""

import pytest
from django.urls import reverse

from events.models import SeriesMember
from registrations import services
from registrations.models import Registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(client, series, make_team_member):
    client.force_login(make_team_member(series, "door", role=SeriesMember.Role.DOOR))
    return client


def test_the_door_lists_a_held_seat_in_words_and_checking_in_confirms_it(door, make_event):
    event = make_event(capacity=5)
    services.register(event=event, name="Ana Confirmed", email="ana@example.edu")
    held = services.register(event=event, name="Bo Held", email="bo@example.edu", signups_from_address=11).registration

    page = door.get(reverse("checkin:event", args=[event.pk]))
    html = " ".join(page.content.decode().split())
    assert "0 of 1 here" in html and "(and 1 seat held until confirmed by email)" in html
    assert "Seat held, not yet confirmed by email: checking in confirms it" in html
    assert html.index("Ana Confirmed") < html.index("Bo Held")

    response = door.post(reverse("checkin:check_in", args=[event.pk, held.pk]), follow=True)

    assert "Bo Held is checked in." in response.content.decode()
    held.refresh_from_db()
    assert (held.status, held.hold_until) == (Registration.Status.CONFIRMED, None)
    assert held.checked_in_at is not None
    event.refresh_from_db()
    assert event.seats_taken == 2


def test_a_walk_in_with_a_held_seat_is_checked_in_on_it(door, make_event):
    event = make_event(capacity=1)
    held = services.register(event=event, name="Bo", email="bo@example.edu", signups_from_address=11).registration

    response = door.post(
        reverse("checkin:walk_in", args=[event.pk]),
        {"name": "Bo", "email": "BO@example.edu", "affiliation": "", "position": ""},
        follow=True,
    )

    assert response.status_code == 200
    held.refresh_from_db()
    assert held.status == Registration.Status.CONFIRMED and held.checked_in_at is not None
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (1, 1)

"""Staff sessions: "sign out everywhere", on any session engine, and the end of an idle session."""

import datetime
import time

import pytest
from django.test import Client
from django.urls import reverse

from events.models import SeriesMember
from staff.models import AuditEntry
from staff.sessions import SEEN_KEY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"]
)
def test_sign_out_everywhere_ends_every_session(settings, organizer, engine):
    settings.SESSION_ENGINE = engine
    laptop, phone = Client(), Client()
    laptop.force_login(organizer)
    phone.force_login(organizer)
    assert phone.get(reverse("admin:index")).status_code == 200

    response = laptop.post(reverse("staff:sign_out_everywhere"))

    assert response["Location"] == reverse("admin:login")
    for client in (laptop, phone):
        page = client.get(reverse("admin:index"))
        assert page.status_code == 302 and page["Location"].startswith(reverse("admin:login"))
        assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="signed_out_everywhere", user=organizer).count() == 1
    # Signing in again works, with the new generation.
    laptop.force_login(organizer)
    assert laptop.get(reverse("admin:index")).status_code == 200


def test_an_idle_session_ends(client, organizer, settings):
    settings.STAFF_IDLE_MINUTES = 30
    client.force_login(organizer)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session[SEEN_KEY] = int(time.time()) - 31 * 60
    session.save()

    response = client.get(reverse("admin:index"), follow=True)

    assert "after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="session_expired", user=organizer).count() == 1


def test_an_active_session_lives_on(client, organizer, settings):
    settings.STAFF_IDLE_MINUTES = 30
    client.force_login(organizer)
    session = client.session
    session[SEEN_KEY] = int(time.time()) - 29 * 60
    session.save()

    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session[SEEN_KEY] > time.time() - 5


def test_the_account_page_lists_recent_sign_ins(client, organizer):
    client.force_login(organizer)
    AuditEntry.objects.filter(user=organizer).update(at=datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC))

    page = client.get(reverse("staff:account")).content.decode()

    assert "Sign out everywhere" in page
    assert "<td>Tue 15 Dec 2026, 11:00 AM CST</td><td>Signed in</td>" in page


def test_the_header_offers_the_admin_to_organizers_and_only_the_door_to_door_staff(
    series, make_team_member, door_group, event
):
    organizer = Client()
    organizer.force_login(make_team_member(series, "olivia"))
    door = Client()
    door.force_login(make_team_member(series, "dora", role=SeriesMember.Role.DOOR))

    organizer_page = organizer.get(event.get_absolute_url()).content.decode()
    door_page = door.get(event.get_absolute_url()).content.decode()
    assert ">Admin</a>" in organizer_page
    assert ">Admin</a>" not in door_page
    assert ">Check-in</a>" in door_page

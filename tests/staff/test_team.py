"""A series' team page: organizers invite, revoke, change roles and take people off; access ends at once."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import Series, SeriesMember
from seminar_site import clock
from staff.models import AuditEntry, Invitation

pytestmark = pytest.mark.django_db
User = get_user_model()
Role = SeriesMember.Role


@pytest.fixture
def dora(series, make_team_member, door_group):
    return make_team_member(series, "dora", role=Role.DOOR)


def team_url(series):
    return reverse("staff:team", args=[series.pk])


def test_organizers_invite_from_the_team_page(client, organizer, series, django_capture_on_commit_callbacks):
    client.force_login(organizer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(team_url(series), {"email": "ana@example.edu", "role": "door"})

    assert response.status_code == 302
    page = client.get(team_url(series)).content.decode()
    assert "Invitation sent to ana@example.edu" in page
    assert "ana@example.edu" in page and "Waiting for an answer" in page
    assert Invitation.objects.get().invited_by == organizer


def test_the_team_page_writes_when_invitations_were_sent_and_work_until_with_the_zone(
    client, organizer, series, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(team_url(series), {"email": "ana@example.edu", "role": "door"})
    until = Invitation.objects.get().expires_at

    page = client.get(team_url(series)).content.decode()
    Invitation.objects.update(
        created_at=datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC),
        expires_at=datetime.datetime(2026, 12, 22, 17, 0, tzinfo=datetime.UTC),
    )
    listed = client.get(team_url(series)).content.decode()

    assert f"Invitation sent to ana@example.edu: the link works until {clock.moment_text(until)}." in page
    assert "<td>Tue 15 Dec 2026, 11:00 AM CST (olivia)</td>" in listed
    assert "<td>Tue 22 Dec 2026, 11:00 AM CST</td>" in listed


def test_an_invitation_to_an_international_domain_is_shown_as_typed(client, organizer, series):
    client.force_login(organizer)

    client.post(team_url(series), {"email": "ana@universität.example", "role": "door"})

    assert Invitation.objects.get().email == "ana@xn--universitt-y5a.example"
    page = client.get(team_url(series)).content.decode()
    assert "Invitation sent to ana@universität.example" in page
    assert "Revoke the invitation of ana@universität.example" in page
    assert "xn--" not in page


def test_the_team_page_is_for_the_series_organizers_only(client, series, dora, make_team_member):
    other = Series.objects.create(slug="other", name="Other", organizer_name="O", organizer_email="o@example.edu")
    client.force_login(make_team_member(other, "oscar"))
    assert client.get(team_url(series)).status_code == 404
    client.force_login(dora)
    assert client.get(team_url(series)).status_code in (302, 404)
    assert client.post(team_url(series), {"email": "x@example.edu", "role": "organizer"}).status_code in (302, 404)
    assert not Invitation.objects.exists()


def test_a_bad_invitation_is_shown_on_the_form(client, organizer, series):
    client.force_login(organizer)

    response = client.post(team_url(series), {"email": "not an address", "role": "door"})

    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_revoking_from_the_team_page(client, organizer, series):
    client.force_login(organizer)
    client.post(team_url(series), {"email": "ana@example.edu", "role": "door"})
    invitation = Invitation.objects.get()

    client.post(reverse("staff:revoke", args=[series.pk, invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert client.get(reverse("staff:invitation", args=[invitation.token])).status_code == 410


def test_taking_someone_off_the_team_ends_their_sessions_at_once(client, organizer, series, dora, event):
    door = reverse("checkin:event", args=[event.pk])
    from django.test import Client

    doras_phone = Client()
    doras_phone.force_login(dora)
    assert doras_phone.get(door).status_code == 200
    client.force_login(organizer)

    client.post(reverse("staff:remove", args=[series.pk, SeriesMember.objects.get(user=dora).pk]))

    response = doras_phone.get(door)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in doras_phone.session
    dora.refresh_from_db()
    assert not dora.is_staff
    assert not dora.groups.exists()
    removed = AuditEntry.objects.get(kind="member_removed")
    assert (removed.user, removed.actor, removed.series) == (dora, organizer, series)


def test_removal_in_the_admin_inline_ends_access_too(client, series, dora, event, admin_user):
    from django.test import Client

    doras_phone = Client()
    doras_phone.force_login(dora)
    SeriesMember.objects.filter(user=dora).delete()  # as the series' admin page deletes an inline row

    assert doras_phone.get(reverse("checkin:index"))["Location"].startswith(reverse("admin:login"))


def test_organizers_change_roles_and_it_is_logged(client, organizer, series, dora):
    client.force_login(organizer)
    member = SeriesMember.objects.get(user=dora)

    client.post(reverse("staff:change_role", args=[series.pk, member.pk]), {f"member-{member.pk}-role": "organizer"})

    member.refresh_from_db()
    assert member.role == Role.ORGANIZER
    change = AuditEntry.objects.get(kind="role_changed")
    assert (change.user, change.actor, change.detail) == (dora, organizer, "Door staff (check-in only) → Organizer")


def test_an_organizer_cannot_take_themselves_off(client, organizer, series):
    client.force_login(organizer)

    response = client.post(
        reverse("staff:remove", args=[series.pk, SeriesMember.objects.get(user=organizer).pk]), follow=True
    )

    assert "cannot change your own place" in response.content.decode()
    assert SeriesMember.objects.filter(user=organizer).exists()


def test_the_team_page_says_how_each_member_signs_in(client, organizer, series, dora):
    client.force_login(organizer)

    page = client.get(team_url(series)).content.decode()

    assert "dora" in page and "(no second factor)" in page

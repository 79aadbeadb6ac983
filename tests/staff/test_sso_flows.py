"""Sign-in through the real providers of tests/idp, driven with the Django test client."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import SeriesMember
from staff.models import AuditEntry, Invitation

# The flows do not depend on the database engine: CI runs them in its SQLite run only.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_once")]
User = get_user_model()


def test_an_invited_door_volunteer_signs_in_through_oidc_and_lands_at_the_door(client, sso, invite, door_group):
    invitation = invite("Dora.Door@utexas.example")

    _callback, response = sso.oidc_sign_in(client, "dora")

    assert response.status_code == 302, response.content[:3000]
    assert response["Location"] == reverse("checkin:index")
    user = User.objects.get(socialaccount__provider="campus")
    assert SeriesMember.objects.get(user=user).role == "door"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert client.get(reverse("checkin:index")).status_code == 200
    assert client.get("/admin/")["Location"] == reverse("checkin:index")


def test_an_uninvited_identity_gets_no_account(client, sso, organizer):
    users = User.objects.count()

    _callback, response = sso.oidc_sign_in(client, "stranger")

    assert response.status_code == 403
    assert b"Ask an organizer of your series" in response.content
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="sign_in_refused", method="oidc:campus").exists()


def test_an_invited_organizer_signs_in_through_saml(client, sso, invite):
    invite("oscar@utexas.example", role=SeriesMember.Role.ORGANIZER)

    response = sso.saml_sign_in(client, "oscar")

    assert response.status_code == 302, response.content[:3000]
    assert response["Location"] == reverse("admin:index")
    user = User.objects.get(username="oscar@utexas.example")
    assert SeriesMember.objects.get(user=user).role == "organizer"


def assert_signed_out(client):
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("answer", ["bad-signature", "other-audience"])
def test_a_forged_saml_response_is_refused(client, sso, invite, answer):
    invite("oscar@utexas.example", role=SeriesMember.Role.ORGANIZER)

    response = sso.saml_sign_in(client, "oscar", answer=answer)

    assert response.status_code == 401
    assert b"could not be trusted" in response.content
    assert_signed_out(client)
    assert not User.objects.filter(username="oscar@utexas.example").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING
    failure = AuditEntry.objects.get(kind="sign_in_failed", method="saml:shibboleth")
    assert ("Signature" in failure.detail) if answer == "bad-signature" else ("audience" in failure.detail.lower())


def test_an_oidc_callback_with_a_wrong_state_is_refused(client, sso, invite):
    invite("dora.door@utexas.example")
    response = client.post("/accounts/oidc/campus/login/")
    callback = sso.oidc_authorize(response["Location"], "dora")
    path, _sep, query = callback.partition("?")
    forged = "&".join(
        "state=forged-by-someone-else" if part.startswith("state=") else part for part in query.split("&")
    )

    response = client.get(f"{path.removeprefix('http://testserver')}?{forged}")

    assert response.status_code in (400, 401)
    assert_signed_out(client)
    assert not SocialAccount.objects.exists()
    assert AuditEntry.objects.filter(kind="sign_in_failed", method="oidc:campus").exists()


def test_an_unverified_address_matches_no_invitation(client, sso, invite):
    invite("dora.door@utexas.example")

    _callback, response = sso.oidc_sign_in(client, "unverified")

    assert response.status_code == 403
    assert not SocialAccount.objects.exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_an_existing_account_is_matched_by_the_username_claim_and_bound(client, sso, series, make_team_member):
    olga = make_team_member(series, "olga")

    _callback, response = sso.oidc_sign_in(client, "olga")

    assert response["Location"] == reverse("admin:index")
    assert SocialAccount.objects.get(provider="campus").user == olga
    assert client.session["_auth_user_id"] == str(olga.pk)


def test_taken_off_every_team_the_identity_gets_nothing_more(client, sso, series, make_team_member):
    olga = make_team_member(series, "olga")
    sso.oidc_sign_in(client, "olga")
    SeriesMember.objects.filter(user=olga).delete()
    client.logout()

    _callback, response = sso.oidc_sign_in(client, "olga")

    assert response.status_code == 403
    assert_signed_out(client)


def test_the_link_of_an_invitation_binds_whichever_identity_accepts_it(client, sso, invite, door_group):
    invitation = invite("d.door@private-mail.example")
    start = reverse("staff:accept_with_provider", args=[invitation.token, "campus"])

    _callback, response = sso.oidc_sign_in(client, "dora", start=start)

    assert response["Location"] == reverse("checkin:index")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_with) == (Invitation.Status.ACCEPTED, "oidc:campus")
    assert invitation.accepted_by.email == "dora.door@utexas.example"


def test_a_used_invitation_link_cannot_start_a_sign_in(client, sso, invite, door_group):
    invitation = invite("d.door@private-mail.example")
    start = reverse("staff:accept_with_provider", args=[invitation.token, "campus"])
    sso.oidc_sign_in(client, "dora", start=start)
    client.logout()

    response = client.post(start)

    assert response.status_code == 410
    assert b"accepted already" in response.content


def test_password_sign_in_off_leaves_providers_working(client, sso, invite, door_group, settings):
    settings.PASSWORD_LOGIN = False
    invite("oscar@utexas.example", role=SeriesMember.Role.ORGANIZER)

    response = sso.saml_sign_in(client, "oscar")

    assert response["Location"] == reverse("admin:index")

"""Team invitations: through the outbox, one open per series and address, signed links that expire and work once."""

import datetime
import zoneinfo

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from events.models import Series, SeriesMember, Venue
from outbox.delivery import deliver
from outbox.models import OutgoingMail
from staff import services
from staff.models import AuditEntry, Invitation
from tests.mime import html_body, parse, text_body

from . import totp
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()
Role = SeriesMember.Role


@pytest.fixture(autouse=True)
def _password_sign_in(settings):
    settings.PASSWORD_LOGIN = True
    settings.REQUIRE_2FA = True


# The invitation page's form for a new password account, filled in as Ana would.
NEW_ACCOUNT = {
    "action": "create",
    "username": "ana",
    "password1": "a long enough pass phrase",
    "password2": "a long enough pass phrase",
}


def test_an_invitation_is_emailed_with_a_link_that_opens_its_page(
    client, organizer, series, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite(
            series=series, email=" Ana.Nunez@Universität.Example ", role=Role.DOOR, actor=organizer
        )

    assert invitation.email == "Ana.Nunez@xn--universitt-y5a.example"
    message = parse(mail.outbox[-1])
    assert message["To"] == "Ana.Nunez@xn--universitt-y5a.example"
    assert message["Subject"] == "You are invited to the team of the IFML Seminar"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "olivia invited you to the team of the IFML Seminar, as Door staff (check-in only)." in text
    assert invitation.url in text
    page = client.get(invitation.url.removeprefix("https://seminars.example.edu"))
    assert page.status_code == 200
    assert "Join the team of the IFML Seminar" in page.content.decode()
    assert "at Ana.Nunez@universität.example." in page.content.decode()  # as typed, not xn--
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert AuditEntry.objects.filter(kind="invitation_sent", actor=organizer, series=series).count() == 1


def test_the_email_and_the_page_give_the_deadline_on_one_clock_with_its_zone(
    client, organizer, series, django_capture_on_commit_callbacks
):
    # The series meets in Madrid: the email used its clock, the page the site's, neither naming it.
    series.default_venue = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    series.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)

    local = invitation.expires_at.astimezone(zoneinfo.ZoneInfo("America/Chicago"))
    deadline = f"{local:%a} {local.day} {local:%b %Y}, {local.hour % 12 or 12}:{local:%M %p} {local.tzname()}"
    message = parse(mail.outbox[-1])
    said = f"The link works once, until {deadline}. It is yours alone"
    assert said in " ".join(text_body(message).split())
    assert said in " ".join(html_body(message).split())
    page = client.get(invitation.url.removeprefix("https://seminars.example.edu")).content.decode()
    assert f"The invitation works once, until {deadline}." in page


def test_inviting_again_replaces_the_open_invitation(organizer, series):
    first = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    second = services.invite(series=series, email="ANA@example.edu", role=Role.ORGANIZER, actor=organizer)

    first.refresh_from_db()
    assert first.status == Invitation.Status.REVOKED
    assert Invitation.objects.pending().get() == second
    assert OutgoingMail.objects.get(about_id=first.pk, kind="staff.invitation").status == "skipped"


def test_the_database_allows_one_open_invitation_per_series_and_address(organizer, series):
    services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            series=series, email="Ana@Example.edu", role=Role.DOOR, expires_at=timezone.now() + datetime.timedelta(1)
        )


@pytest.mark.parametrize("who", ["door", "other organizer"])
def test_only_the_series_organizers_invite(series, make_team_member, door_group, who):
    other = Series.objects.create(slug="other", name="Other", organizer_name="O", organizer_email="o@example.edu")
    actor = make_team_member(series, "dora", role=Role.DOOR) if who == "door" else make_team_member(other, "oscar")

    with pytest.raises(services.StaffError) as refused:
        services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=actor)

    assert refused.value.code == "not_allowed"
    assert not Invitation.objects.exists()


def test_someone_already_on_the_team_is_not_invited_again(organizer, series, make_team_member):
    member = make_team_member(series, "bob", role=Role.ORGANIZER)
    member.email = "bob@example.edu"
    member.save()

    with pytest.raises(services.StaffError) as refused:
        services.invite(series=series, email="BOB@example.edu", role=Role.ORGANIZER, actor=organizer)

    assert refused.value.code == "already_member"


@pytest.mark.parametrize("email", ["not an address", "ana@", "a@b@c.edu", "ana@example.edu\r\nBcc: x@y.z"])
def test_a_bad_address_is_refused(organizer, series, email):
    with pytest.raises(services.StaffError) as refused:
        services.invite(series=series, email=email, role=Role.DOOR, actor=organizer)
    assert refused.value.code == "invalid_email"


def path_of(invitation):
    return reverse("staff:invitation", args=[invitation.token])


def test_a_tampered_link_is_refused_and_logged(client, organizer, series):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    token = invitation.token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (tampered, token.replace(invitation.key[:4], "xxxx"), "nonsense", token + "x"):
        response = client.get(reverse("staff:invitation", args=[bad]))
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert AuditEntry.objects.filter(kind="invitation_refused", detail="invalid").count() == 4


def test_an_expired_link_is_refused(client, organizer, series):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get(path_of(invitation))

    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_link_states_its_own_deadline(client, organizer, series):
    # Moving the deadline in the database does not make an expired link work again.
    invitation = services.invite(
        series=series,
        email="ana@example.edu",
        role=Role.DOOR,
        actor=organizer,
        now=timezone.now() - datetime.timedelta(days=30),
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + datetime.timedelta(days=1))

    assert client.get(path_of(invitation)).status_code == 410


def test_a_revoked_link_is_refused(client, organizer, series):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    assert services.revoke_invitation(invitation=invitation, actor=organizer)
    assert not services.revoke_invitation(invitation=invitation, actor=organizer)

    response = client.get(path_of(invitation))

    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_accepting_with_a_new_password_account_then_enrolling_a_second_factor(client, organizer, series, door_group):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)

    response = client.post(path_of(invitation), NEW_ACCOUNT)

    assert response.status_code == 302
    ana = User.objects.get(username="ana")
    assert (ana.email, ana.is_staff) == ("ana@example.edu", True)
    assert SeriesMember.objects.get(user=ana).role == Role.DOOR
    assert client.session["_auth_user_id"] == str(ana.pk)
    # REQUIRE_2FA: a password account adds a second factor before anything else.
    assert client.get(reverse("checkin:index"))["Location"] == reverse("mfa_activate_totp")


def test_a_replayed_link_is_refused(client, organizer, series, door_group):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    client.post(path_of(invitation), NEW_ACCOUNT)
    client.logout()

    again = client.post(path_of(invitation), NEW_ACCOUNT | {"username": "ana2"})

    assert again.status_code == 410
    assert "accepted already" in again.content.decode()
    assert not User.objects.filter(username="ana2").exists()
    assert client.get(path_of(invitation)).status_code == 410


def test_a_weak_password_creates_nothing(client, organizer, series):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)

    response = client.post(
        path_of(invitation), {"action": "create", "username": "ana", "password1": "password", "password2": "password"}
    )

    assert response.status_code == 400
    assert "too common" in response.content.decode()
    assert not User.objects.filter(username="ana").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_an_address_with_an_account_signs_in_to_accept(client, organizer, series, make_team_member):
    other = Series.objects.create(slug="other", name="Other", organizer_name="O", organizer_email="o@example.edu")
    bob = make_team_member(other, "bob")
    bob.email = "bob@example.edu"
    bob.save()
    invitation = services.invite(series=series, email="bob@example.edu", role=Role.ORGANIZER, actor=organizer)

    page = client.get(path_of(invitation)).content.decode()
    assert "You already have an account here" in page
    client.force_login(bob)
    response = client.post(path_of(invitation), {"action": "accept"})

    assert response.status_code == 302
    assert set(bob.series_memberships.values_list("series__slug", flat=True)) == {"other", "ifml-seminar"}


def test_someone_taken_off_every_team_and_invited_again_signs_in_to_accept(client, organizer, series, make_team_member):
    dan = make_team_member(series, "dan", role=Role.DOOR)
    dan.email = "dan@example.edu"
    dan.set_password(PASSWORD)
    dan.save()
    secret = generate_totp_secret()
    TOTP.activate(dan, secret)
    services.remove_member(member=SeriesMember.objects.get(user=dan), actor=organizer)
    sign_in = {"username": "dan", "password": PASSWORD}
    # Off every team and not invited: no way in.
    assert client.post(reverse("admin:login"), sign_in).status_code == 200
    assert "_auth_user_id" not in client.session
    invitation = services.invite(series=series, email="dan@example.edu", role=Role.DOOR, actor=organizer)
    assert "You already have an account here" in client.get(path_of(invitation)).content.decode()

    asked = client.post(reverse("admin:login"), sign_in | {"next": path_of(invitation)})
    # The second factor is still asked for, and then the invitation's page opens.
    assert asked["Location"] == reverse("mfa_authenticate")
    landed = client.post(reverse("mfa_authenticate"), {"code": totp.code(secret)})
    assert landed["Location"] == path_of(invitation)
    assert client.post(path_of(invitation), {"action": "accept"}).status_code == 302

    dan.refresh_from_db()
    assert dan.is_staff
    assert SeriesMember.objects.get(user=dan).role == Role.DOOR
    assert client.get(reverse("checkin:index")).status_code == 200


def test_password_sign_in_off_offers_no_password_account(client, organizer, series, settings):
    settings.PASSWORD_LOGIN = False
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)

    page = client.get(path_of(invitation)).content.decode()
    response = client.post(path_of(invitation), NEW_ACCOUNT)

    assert 'name="password1"' not in page
    assert response.status_code == 400
    assert not User.objects.filter(username="ana").exists()


def test_an_invitation_email_still_queued_when_revoked_is_not_sent(organizer, series):
    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    services.revoke_invitation(invitation=invitation, actor=organizer)

    deliver(mail_id=OutgoingMail.objects.get(kind="staff.invitation").pk)

    assert mail.outbox == []


def test_a_username_taken_between_the_check_and_the_insert_is_a_clear_message(client, organizer, series, monkeypatch):
    from django.contrib.auth import password_validation

    invitation = services.invite(series=series, email="ana@example.edu", role=Role.DOOR, actor=organizer)
    validate = password_validation.validate_password

    def someone_else_takes_it_meanwhile(password, user=None, password_validators=None):
        # Another invited person's account, committed after this one's username was checked.
        User.objects.create_user(username="ana", email="ana.other@example.edu")
        return validate(password, user, password_validators)

    monkeypatch.setattr(password_validation, "validate_password", someone_else_takes_it_meanwhile)

    response = client.post(path_of(invitation), NEW_ACCOUNT)

    assert response.status_code == 400
    assert "This username is taken: choose another." in response.content.decode()
    assert list(User.objects.filter(username="ana").values_list("email", flat=True)) == ["ana.other@example.edu"]
    assert Invitation.objects.get().status == Invitation.Status.PENDING
    assert "_auth_user_id" not in client.session


def test_a_first_sign_in_whose_username_was_taken_a_moment_ago_gets_the_next_one(organizer, series, monkeypatch):
    from staff.providers import OIDC, Provider
    from staff.services import identities

    provider = Provider(
        id="campus", name="Campus", protocol=OIDC, trust_email=True, username_field="", origins=(), config={}
    )
    identity = identities.Identity(
        provider=provider, uid="42", verified_emails=("dora@utexas.example",), username="dora"
    )
    services.invite(series=series, email="dora@utexas.example", role=Role.DOOR, actor=organizer)
    new_username = identities._new_username
    checks = []

    def someone_else_takes_it_meanwhile(identity):
        username = new_username(identity)
        checks.append(username)
        if len(checks) == 1:
            # Another sign-in's account, committed after this one's username was found free.
            User.objects.create_user(username=username, email="dora.other@utexas.example")
        return username

    monkeypatch.setattr(identities, "_new_username", someone_else_takes_it_meanwhile)

    user = services.sign_in_with_identity(identity=identity)

    assert checks == ["dora", "dora-2"]
    assert user.username == "dora-2"
    assert SeriesMember.objects.get(user=user, series=series).role == Role.DOOR
    assert User.objects.get(username="dora").email == "dora.other@utexas.example"

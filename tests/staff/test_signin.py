"""The admin's sign-in page: providers first, passwords when allowed, the second factor, where people land."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import SeriesMember
from staff.models import AuditEntry
from tests.html import page_text

from . import totp
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.PASSWORD_LOGIN = True
    settings.REQUIRE_2FA = False
    settings.BREAK_GLASS_USERS = []


@pytest.fixture
def dora(series, make_team_member, door_group):
    user = make_team_member(series, "dora", role=SeriesMember.Role.DOOR)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, username, password=PASSWORD, *, next_url="", query=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("admin:login") + query, data, REMOTE_ADDR="198.51.100.7")


def test_the_page_offers_each_provider_first_then_the_password(client, sso):
    page = client.get(reverse("admin:login")).content.decode()

    assert page.index("Sign in with Campus Login") < page.index("Sign in with UT EID") < page.index('name="password"')
    assert 'action="/accounts/oidc/campus/login/"' in page
    assert 'action="/accounts/saml/shibboleth/login/"' in page


def test_the_page_lets_its_forms_reach_the_providers_and_nothing_else(client, sso):
    policy = client.get(reverse("admin:login"))["Content-Security-Policy"]

    form_action = next(part for part in policy.split(";") if "form-action" in part).split()
    assert form_action[1:] == ["'self'", sso.oidc_url, sso.idp.base]
    other_page = client.get(reverse("events:event_list"))["Content-Security-Policy"]
    assert "form-action 'self';" in other_page + ";"


def test_an_organizer_lands_on_the_admin_index(client, olivia):
    response = sign_in(client, "olivia")

    assert response["Location"] == reverse("admin:index")
    entry = AuditEntry.objects.get(kind="signed_in")
    assert (entry.user, entry.method, entry.address) == (olivia, "password", "198.51.100.0/24")


def test_an_organizer_goes_where_they_were_going(client, olivia, event):
    target = reverse("admin:events_event_change", args=[event.pk])

    assert sign_in(client, "olivia", next_url=target)["Location"] == target
    assert sign_in(client, "olivia", next_url="https://evil.example/")["Location"] == reverse("admin:index")


def test_door_staff_land_at_the_door_and_nowhere_else(client, dora, event):
    assert sign_in(client, "dora", next_url="/admin/")["Location"] == reverse("checkin:index")
    door = reverse("checkin:event", args=[event.pk])
    client.logout()
    assert sign_in(client, "dora", next_url=door)["Location"] == door
    assert client.get("/admin/events/event/")["Location"] == reverse("checkin:index")
    assert client.get(door).status_code == 200


def test_password_sign_in_off_hides_the_form_and_refuses_passwords(client, olivia, settings, sso):
    settings.PASSWORD_LOGIN = False

    page = client.get(reverse("admin:login")).content.decode()
    response = sign_in(client, "olivia")

    assert 'name="password"' not in page
    assert "Sign in with Campus Login" in page
    assert response.status_code == 403
    assert "Password sign-in is off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="sign_in_refused", detail="off").count() == 1
    # Refused before the password is read: a wrong one gets the same answer, and counts as no guess.
    assert sign_in(client, "olivia", "wrong").status_code == 403
    assert not AuditEntry.objects.filter(kind="sign_in_failed").exists()


def test_break_glass_superusers_keep_password_sign_in(client, settings, sso):
    settings.PASSWORD_LOGIN = False
    settings.BREAK_GLASS_USERS = ["root-emergency"]
    root = User.objects.create_superuser("root-emergency", "root@example.edu", PASSWORD)
    User.objects.create_superuser("other-root", "other@example.edu", PASSWORD)
    # Named, but no superuser: a name in the setting alone opens nothing.
    User.objects.create_user("helper", password=PASSWORD, is_staff=True)
    settings.BREAK_GLASS_USERS = ["root-emergency", "helper"]

    page = client.get(reverse("admin:login") + "?break-glass").content.decode()
    assert 'name="password"' in page and "Emergency sign-in" in page

    assert sign_in(client, "other-root", query="?break-glass").status_code == 200
    assert sign_in(client, "helper", query="?break-glass").status_code == 200
    assert "_auth_user_id" not in client.session
    assert sign_in(client, "root-emergency", query="?break-glass").status_code == 302
    assert client.session["_auth_user_id"] == str(root.pk)


def answer(response) -> tuple[int, str]:
    """What the sign-in page said: its status and all its text."""
    return response.status_code, page_text(response)


def test_the_break_glass_page_names_no_break_glass_account(client, settings):
    settings.PASSWORD_LOGIN = False
    settings.BREAK_GLASS_USERS = ["root-emergency", "helper"]
    User.objects.create_superuser("root-emergency", "root@example.edu", PASSWORD)
    User.objects.create_superuser("other-root", "other@example.edu", PASSWORD)
    User.objects.create_user("helper", password=PASSWORD, is_staff=True)

    wrong = answer(sign_in(client, "root-emergency", "wrong", query="?break-glass"))

    # A listed name with a wrong password, a name not listed (right password or not), a listed
    # account that is no superuser: one answer, so guessing names tells nothing.
    assert wrong[0] == 200
    assert "Please enter the correct username and password" in wrong[1]
    assert answer(sign_in(client, "other-root", query="?break-glass")) == wrong
    assert answer(sign_in(client, "nobody", "wrong", query="?break-glass")) == wrong
    assert answer(sign_in(client, "helper", query="?break-glass")) == wrong
    assert "_auth_user_id" not in client.session
    # Away from the break-glass page, a break-glass name is refused as any other, its password unread.
    off = answer(sign_in(client, "root-emergency", "wrong"))
    assert off == answer(sign_in(client, "other-root", "wrong"))
    assert off[0] == 403
    assert sign_in(client, "root-emergency").status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_break_glass_page_counts_every_refusal_as_a_wrong_password(client, settings):
    settings.PASSWORD_LOGIN = False
    settings.BREAK_GLASS_USERS = ["root-emergency"]
    settings.LOGIN_ACCOUNT_RATE_LIMIT = "2/15m"
    User.objects.create_superuser("root-emergency", "root@example.edu", PASSWORD)

    for name in ("root-emergency", "nobody"):
        statuses = [sign_in(client, name, "wrong", query="?break-glass").status_code for _ in range(3)]
        # The same limit for a name that exists as a break-glass account and for one that does not.
        assert statuses == [200, 200, 429], name


def test_a_password_account_with_totp_is_asked_for_a_code(client, olivia):
    secret = generate_totp_secret()
    TOTP.activate(olivia, secret)

    response = sign_in(client, "olivia")

    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("mfa_authenticate"), {"code": totp.wrong_code(secret)})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="second_factor_failed", user=olivia).exists()

    right = client.post(reverse("mfa_authenticate"), {"code": totp.code(secret)})

    assert right["Location"] == reverse("admin:index")
    assert client.session["_auth_user_id"] == str(olivia.pk)
    assert AuditEntry.objects.get(kind="signed_in").method == "password + totp"


def test_second_factor_codes_are_limited_like_passwords(client, olivia, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/15m/ip,3/15m/key"}
    secret = generate_totp_secret()
    TOTP.activate(olivia, secret)
    sign_in(client, "olivia")
    for _ in range(3):
        client.post(reverse("mfa_authenticate"), {"code": totp.wrong_code(secret)})

    response = client.post(reverse("mfa_authenticate"), {"code": totp.code(secret)})

    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def test_required_second_factor_is_enrolled_before_anything_else(
    client, olivia, settings, django_capture_on_commit_callbacks
):
    settings.REQUIRE_2FA = True

    assert sign_in(client, "olivia")["Location"] == reverse("admin:index")
    blocked = client.get(reverse("admin:index"))
    assert blocked["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("checkin:index"))["Location"] == reverse("mfa_activate_totp")

    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):
        enrolled = client.post(reverse("mfa_activate_totp"), {"code": totp.code(secret)})

    assert enrolled.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert AuditEntry.objects.filter(kind="second_factor_added", user=olivia).exists()


def test_a_provider_sign_in_is_not_asked_for_a_second_factor(client, sso, series, make_team_member, settings):
    settings.REQUIRE_2FA = True
    olga = make_team_member(series, "olga")
    TOTP.activate(olga, generate_totp_secret())

    _callback, response = sso.oidc_sign_in(client, "olga")

    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200

"""Staff sign in through real identity providers in Chromium: an OpenID Connect provider (node-oidc-provider)
and a SAML IdP (pysaml2), both started on this machine by tests/idp.

One run is enough: these do not depend on the database engine (CI runs them with SQLite only).
"""

import re
import time
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from playwright.sync_api import expect

from events.models import Event, Series, SeriesMember
from staff import services
from staff.models import AuditEntry
from tests.idp.fixtures import OIDC_ID, SAML_ID, SSO, oidc_provider, saml_idp  # noqa: F401 (fixtures)
from tests.staff import totp

from .axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
User = get_user_model()
Role = SeriesMember.Role


@pytest.fixture
def sso(settings, live_site_url, oidc_provider, saml_idp):  # noqa: F811
    """The live site's SSO_PROVIDERS naming both providers; the IdP reads the site's own SAML metadata."""
    helper = SSO(oidc_url=oidc_provider, idp=saml_idp)
    settings.SSO_PROVIDERS = helper.providers_setting()
    metadata = requests.get(f"{live_site_url}/accounts/saml/{SAML_ID}/metadata/", timeout=30)
    assert metadata.status_code == 200, metadata.text[:2000]
    helper.serve_sp_metadata(metadata.text)
    return helper


@pytest.fixture
def teams(settings, series, make_event):
    """Two series with a talk each; the organizer who sends the invitations. (Transactional tests flush the
    groups the migrations made: their permissions are given again.)"""
    door, _created = Group.objects.get_or_create(name=SeriesMember.ROLE_GROUPS[Role.DOOR])
    door.permissions.add(Permission.objects.get(codename="check_in_registration"))
    organizers, _created = Group.objects.get_or_create(name=SeriesMember.ROLE_GROUPS[Role.ORGANIZER])
    organizers.permissions.add(*Permission.objects.filter(content_type__app_label__in=["events", "registrations"]))
    olivia = User.objects.create_user("olivia", "olivia@cs.utexas.example", "correct horse battery")
    SeriesMember.objects.create(series=series, user=olivia)
    other = Series.objects.create(
        name="Other Seminar", slug="other", organizer_name="O", organizer_email="o@example.edu"
    )
    ours = make_event(title="Our talk")
    theirs = make_event(title="Their talk", series=other)
    return olivia, ours, theirs


def invitation_link(sent_links, email) -> str:
    links = [link for link in sent_links(email) if "/staff/invitations/" in link]
    assert len(links) == 1, links
    return links[0]


def sign_in_at_oidc_provider(page, login):
    """node-oidc-provider's development sign-in page: any password."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()


def test_an_invited_door_volunteer_signs_in_with_oidc_and_reaches_only_the_door(
    new_page, sso, teams, series, sent_links, settings
):
    settings.PASSWORD_LOGIN = False
    olivia, ours, theirs = teams
    services.invite(series=series, email="dora.door@utexas.example", role=Role.DOOR, actor=olivia)
    page = new_page()

    page.goto(invitation_link(sent_links, "dora.door@utexas.example"))
    expect(page.get_by_role("heading", name="Join the team of the IFML Seminar")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)  # PASSWORD_LOGIN=off: providers only
    assert_accessible(page)
    page.get_by_role("button", name="Accept with Campus Login").click()
    sign_in_at_oidc_provider(page, "dora")

    expect(page.get_by_role("heading", name="Check-in at the door")).to_be_visible()
    assert page.url.endswith(reverse("checkin:index"))
    expect(page.get_by_role("link", name="Our talk")).to_be_visible()
    expect(page.get_by_role("link", name="Their talk")).to_have_count(0)
    # Nowhere else: the admin sends door staff back to the door; another series' door is not there.
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Check-in at the door")).to_be_visible()
    assert page.goto(reverse("checkin:event", args=[theirs.pk])).status == 404
    page.goto(reverse("checkin:event", args=[ours.pk]))
    expect(page.get_by_role("heading", name="Our talk")).to_be_visible()
    dora = User.objects.get(socialaccount__provider=OIDC_ID)
    assert list(dora.series_memberships.values_list("series__slug", "role")) == [("ifml-seminar", "door")]


def test_an_invited_organizer_signs_in_with_saml_and_sees_only_their_series(new_page, sso, teams, series, sent_links):
    olivia, _ours, _theirs = teams
    services.invite(series=series, email="oscar@utexas.example", role=Role.ORGANIZER, actor=olivia)
    page = new_page()

    page.goto(invitation_link(sent_links, "oscar@utexas.example"))
    page.get_by_role("button", name="Accept with UT EID").click()
    page.get_by_label("Account").select_option("oscar")
    page.get_by_role("button", name="Sign in at the IdP").click()
    page.get_by_role("button", name="Continue to the site").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(reverse("admin:events_event_changelist"))
    expect(page.get_by_role("link", name="Our talk")).to_be_visible()
    expect(page.get_by_role("link", name="Their talk")).to_have_count(0)
    page.goto(reverse("admin:events_series_changelist"))
    expect(page.locator("#result_list").get_by_role("link", name="IFML Seminar")).to_be_visible()
    expect(page.locator("#result_list").get_by_role("link", name="Other Seminar")).to_have_count(0)
    assert User.objects.get(socialaccount__provider=SAML_ID).username == "oscar@utexas.example"


def test_an_uninvited_identity_gets_no_account_and_no_access(new_page, sso, teams):
    users = User.objects.count()
    page = new_page()

    page.goto(reverse("admin:login"))
    page.get_by_role("button", name="Sign in with Campus Login").click()
    sign_in_at_oidc_provider(page, "stranger")

    expect(page.get_by_role("heading", name="No access yet")).to_be_visible()
    expect(page.get_by_text("Ask an organizer of your series to add you to its team.")).to_be_visible()
    assert_accessible(page)
    assert User.objects.count() == users
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("button", name="Sign in with Campus Login")).to_be_visible()


def test_a_callback_with_a_wrong_state_is_refused(new_page, sso, teams, series):
    olivia, _ours, _theirs = teams
    services.invite(series=series, email="dora.door@utexas.example", role=Role.DOOR, actor=olivia)
    page = new_page()

    def forge_state(route):
        if route.request.method != "POST":
            route.continue_()
            return
        # The provider answers the sign-in with redirects, which Playwright cannot intercept: follow them in
        # the browser's own context (its cookies), then send the browser to the callback with another state.
        request = page.context.request
        answer = request.post(
            route.request.url,
            data=route.request.post_data,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            max_redirects=0,
        )
        resume = request.get(urljoin(route.request.url, answer.headers["location"]), max_redirects=0)
        callback = resume.headers["location"]
        assert "/login/callback/" in callback and "state=" in callback
        route.fulfill(status=302, headers={"Location": re.sub(r"state=[^&]+", "state=forged", callback)})

    page.route(re.compile(r".*/interaction/[^/?]+(/[a-z]+)?$"), forge_state)
    page.goto(reverse("admin:login"))
    page.get_by_role("button", name="Sign in with Campus Login").click()
    sign_in_at_oidc_provider(page, "dora")

    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    assert not User.objects.filter(socialaccount__provider=OIDC_ID).exists()
    assert AuditEntry.objects.filter(kind="sign_in_failed", method=f"oidc:{OIDC_ID}").exists()


def test_a_saml_answer_with_a_bad_signature_is_refused(new_page, sso, teams, series):
    olivia, _ours, _theirs = teams
    services.invite(series=series, email="oscar@utexas.example", role=Role.ORGANIZER, actor=olivia)
    page = new_page()

    page.goto(reverse("admin:login"))
    page.get_by_role("button", name="Sign in with UT EID").click()
    page.get_by_label("Account").select_option("oscar")
    page.get_by_label("Answer").select_option("bad-signature")
    page.get_by_role("button", name="Sign in at the IdP").click()
    page.get_by_role("button", name="Continue to the site").click()

    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    assert not User.objects.filter(username="oscar@utexas.example").exists()


def test_totp_enrolment_then_sign_in_with_a_code(new_page, sso, teams, settings):
    settings.REQUIRE_2FA = True
    page = new_page()

    def password_sign_in():
        page.goto(reverse("admin:login"))
        page.get_by_label("Username:").fill("olivia")
        page.get_by_label("Password:").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()

    password_sign_in()
    # A password alone reaches nothing: first a second factor.
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    secret = page.get_by_label("Authenticator secret").input_value()
    enrolment_code = totp.code(secret)
    enrolled_in_step = int(time.time() // totp.STEP)
    page.get_by_label("Authenticator code").fill(enrolment_code)
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.context.clear_cookies()
    password_sign_in()
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_label("Code").fill(totp.wrong_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    # A code works once: the sign-in takes the next one the app shows.
    while int(time.time() // totp.STEP) == enrolled_in_step:
        time.sleep(0.5)
    page.get_by_label("Code").fill(totp.code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert AuditEntry.objects.filter(kind="signed_in", method="password + totp").count() == 1
    assert Event.objects.exists()


def test_a_security_key_as_the_second_factor(new_page, teams, settings, live_site_url):
    # WebAuthn over plain HTTP to localhost (browsers treat it as secure; the library must be told).
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    settings.REQUIRE_2FA = True
    page = new_page()
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    def password_sign_in():
        page.goto(reverse("admin:login"))
        page.get_by_label("Username:").fill("olivia")
        page.get_by_label("Password:").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()

    password_sign_in()
    page.goto(reverse("mfa_add_webauthn"))
    page.get_by_label("Name").fill("Office key")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.context.clear_cookies()
    password_sign_in()
    page.get_by_role("button", name="Use a security key").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert AuditEntry.objects.filter(kind="signed_in", method="password + webauthn").count() == 1

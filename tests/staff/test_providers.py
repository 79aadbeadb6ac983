"""SSO_PROVIDERS: several providers from one setting, read when used, and clear errors for a wrong one."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from staff import providers
from staff.checks import check_providers, check_second_factor

ENTRA = {
    "id": "entra",
    "name": "UT Austin (Microsoft)",
    "protocol": "oidc",
    "issuer": "https://login.microsoftonline.com/tenant-id/v2.0",
    "client_id": "abc",
    "client_secret": "s3cret",
}
SHIBBOLETH = {
    "id": "utexas",
    "name": "UT EID",
    "protocol": "saml",
    "entity_id": "https://enterprise.login.utexas.edu/idp/shibboleth",
    "metadata_url": "https://mdq.incommon.org/entities/idp",
}


def test_several_providers_become_allauth_apps():
    parsed = providers.parse(json.dumps([ENTRA, SHIBBOLETH]))

    oidc, saml = (provider.social_app() for provider in parsed)
    assert (oidc.provider, oidc.provider_id, oidc.client_id, oidc.secret) == (
        "openid_connect",
        "entra",
        "abc",
        "s3cret",
    )
    assert oidc.settings["server_url"] == ENTRA["issuer"]
    assert oidc.settings["oauth_pkce_enabled"] is True
    assert (saml.provider, saml.provider_id, saml.client_id) == ("saml", "utexas", "utexas")
    assert saml.settings["idp"] == {"entity_id": SHIBBOLETH["entity_id"], "metadata_url": SHIBBOLETH["metadata_url"]}
    assert saml.settings["advanced"]["want_assertion_signed"] is True
    assert saml.settings["advanced"]["reject_idp_initiated_sso"] is True
    assert parsed[1].trust_email and not parsed[0].trust_email
    assert parsed[0].origins == ("https://login.microsoftonline.com",)


def test_a_file_holds_them_too(tmp_path):
    path = tmp_path / "providers.json"
    path.write_text(json.dumps([ENTRA]))

    assert [provider.id for provider in providers.parse(str(path))] == ["entra"]


def test_read_when_used(settings):
    settings.SSO_PROVIDERS = json.dumps([ENTRA])
    assert [provider.name for provider in providers.configured()] == ["UT Austin (Microsoft)"]
    settings.SSO_PROVIDERS = ""
    assert providers.configured() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "x"}', "JSON list of objects"),
        (json.dumps([ENTRA | {"protocol": "cas"}]), 'protocol must be "oidc" or "saml"'),
        (json.dumps([ENTRA | {"id": "Entra ID"}]), "lower-case letters"),
        (json.dumps([ENTRA, ENTRA]), "used twice"),
        (json.dumps([{k: v for k, v in ENTRA.items() if k != "issuer"}]), "lacks issuer"),
        (json.dumps([{k: v for k, v in SHIBBOLETH.items() if k != "metadata_url"}]), "lacks sso_url, x509cert"),
        ("/nonexistent/providers.json", "nor a file that can be read"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(settings, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        providers.parse(value)
    settings.SSO_PROVIDERS = value
    (error,) = check_providers(None)
    assert error.id == "staff.E001" and message in error.msg


def test_password_sign_in_off_without_a_provider_is_an_error(settings):
    settings.PASSWORD_LOGIN = False
    settings.SSO_PROVIDERS = ""

    assert [error.id for error in check_providers(None)] == ["staff.E002"]


def test_the_deploy_check_warns_of_passwords_without_a_second_factor(settings):
    settings.PASSWORD_LOGIN, settings.REQUIRE_2FA = True, False
    assert [warning.id for warning in check_second_factor(None)] == ["staff.W001"]
    settings.REQUIRE_2FA = True
    assert check_second_factor(None) == []
    settings.PASSWORD_LOGIN, settings.REQUIRE_2FA = False, False
    assert check_second_factor(None) == []


@pytest.mark.django_db
def test_system_checks_fail_on_a_broken_setting(settings):
    settings.SSO_PROVIDERS = "[{"
    with pytest.raises(SystemCheckError, match=r"staff\.E001"):
        call_command("check")

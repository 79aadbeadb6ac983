from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import providers


@checks.register()
def check_providers(app_configs, **kwargs):
    """SSO_PROVIDERS parses, and someone can still sign in."""
    try:
        configured = providers.parse(settings.SSO_PROVIDERS)
    except ImproperlyConfigured as error:
        return [
            checks.Error(
                str(error),
                hint='See "Staff sign-in" in README.md for the shape of SSO_PROVIDERS.',
                obj="SSO_PROVIDERS",
                id="staff.E001",
            )
        ]
    if not settings.PASSWORD_LOGIN and not configured:
        return [
            checks.Error(
                "PASSWORD_LOGIN is off and SSO_PROVIDERS names no identity provider: "
                "only the break-glass superusers could sign in.",
                hint="Configure SSO_PROVIDERS, or switch PASSWORD_LOGIN back on.",
                obj="PASSWORD_LOGIN",
                id="staff.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_second_factor(app_configs, **kwargs):
    """In production every password needs a second factor."""
    if settings.PASSWORD_LOGIN and not settings.REQUIRE_2FA:
        return [
            checks.Warning(
                "Password sign-in is on (PASSWORD_LOGIN) and REQUIRE_2FA is off: a stolen or guessed staff "
                "password alone opens the admin.",
                hint="Unset REQUIRE_2FA (it is on by default in production), or set PASSWORD_LOGIN=off and sign "
                "staff in through an identity provider.",
                obj="REQUIRE_2FA",
                id="staff.W001",
            )
        ]
    return []

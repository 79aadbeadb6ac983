"""What a staff session carries besides Django's own keys, and the rules read from it.

- "staff.generation" (services.sessions): the sign-out-everywhere number it was signed in under;
- "staff.seen": when it was last used (for STAFF_IDLE_MINUTES), written at most once a minute;
- "staff.password_only": signed in with a password and no second factor on the account
  (REQUIRE_2FA then sends the person to enrol one before anything else).
"""

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

SEEN_KEY = "staff.seen"
PASSWORD_ONLY_KEY = "staff.password_only"  # noqa: S105 (a session key, not a password)
# A session is marked as used at most this often: not a write per request.
SEEN_RESOLUTION = 60


def mark_seen(request, now) -> None:
    request.session[SEEN_KEY] = int(now.timestamp())


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def signed_in_with_password(request) -> bool:
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
    return any(record.get("method") == "password" for record in records)


def second_factor_state(request, user) -> None:
    """Note whether this session's password sign-in lacks a second factor (the account has none)."""
    if signed_in_with_password(request) and not has_second_factor(user):
        request.session[PASSWORD_ONLY_KEY] = True
    else:
        request.session.pop(PASSWORD_ONLY_KEY, None)


# What the door staff role may do (the permission of its group, see SeriesMember.ROLE_GROUPS).
DOOR_PERMISSIONS = frozenset({"registrations.check_in_registration"})


def is_door_only(user) -> bool:
    """Staff who may do nothing but check people in (door staff): the door pages are their whole staff side.

    Read from the permissions the admin loads anyway (cached on the user), so it costs no query of its own.
    """
    if not user.is_authenticated or user.is_superuser:
        return False
    permissions = user.get_all_permissions()
    return bool(permissions) and permissions <= DOOR_PERMISSIONS


def _door_paths() -> tuple[str, ...]:
    return (reverse("checkin:index"), "/c/")


def landing_url(request, user, next_url: str = "") -> str:
    """Where someone lands after signing in: door staff at the door (the one they asked for, if a door page),
    everyone else where they were going, else the admin's index."""
    safe = bool(next_url) and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if is_door_only(user):
        if safe and next_url.startswith(_door_paths()):
            return next_url
        return reverse("checkin:index")
    return next_url if safe else reverse("admin:index")


def idle_limit_seconds() -> int:
    return settings.STAFF_IDLE_MINUTES * 60

"""Who an identity from a provider is here: a matching account, an invitation, or nobody."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from events.models import SeriesMember

from .. import audit
from ..models import Invitation
from ..providers import Provider
from .errors import StaffError
from .invitations import accept_invitation


@dataclass(frozen=True)
class Identity:
    """What a provider said about the person signing in, as far as matching goes."""

    provider: Provider
    uid: str
    # Only addresses the provider vouches for (its email_verified, or trust_email).
    verified_emails: tuple[str, ...]
    # The value of the provider's username_claim / username_attribute, "" without one.
    username: str
    first_name: str = ""
    last_name: str = ""

    @property
    def method(self) -> str:
        return f"{self.provider.protocol}:{self.provider.id}"


def has_staff_access(user) -> bool:
    """An active superuser, or someone on the team of at least one series."""
    return bool(
        user is not None and user.is_active and (user.is_superuser or SeriesMember.objects.filter(user=user).exists())
    )


def matching_account(identity: Identity):
    """The one active account whose username is the identity's username value, else whose email is a verified one.

    None when nothing matches or the match is ambiguous (two accounts share an address).
    """
    User = get_user_model()
    active = User._default_manager.filter(is_active=True)
    if identity.username:
        users = list(active.filter(username__iexact=identity.username)[:2])
        if len(users) == 1:
            return users[0]
    for email in identity.verified_emails:
        users = list(active.filter(email__iexact=email)[:2])
        if len(users) == 1:
            return users[0]
    return None


def _new_username(identity: Identity) -> str:
    User = get_user_model()
    base = (identity.username or (identity.verified_emails[:1] or [""])[0] or f"{identity.provider.id}-{identity.uid}")[
        :140
    ]
    candidate, n = base, 1
    while User._default_manager.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# A username is taken by a sign-in at the same moment only rarely; several in a row, never but under attack.
_USERNAME_TRIES = 5


def _new_account(identity: Identity, invitations: list[Invitation]):
    User = get_user_model()
    for _attempt in range(_USERNAME_TRIES):
        user = User(
            username=_new_username(identity),
            email=(identity.verified_emails or (invitations[0].email,))[0],
            first_name=identity.first_name[:150],
            last_name=identity.last_name[:150],
        )
        # Signing in is the provider's business: no password here to guess.
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Someone else's first sign-in took this username between the check and the insert;
            # the next check sees it, and the next suffix is free.
            continue
        return user
    raise StaffError(_("Your account could not be created just now: please sign in again."), code="username_race")


def sign_in_with_identity(*, identity: Identity, known_user=None, invitation_key: str = "", request=None, bind=None):
    """The account an identity from a provider signs in as, after accepting any invitation it answers.

    `known_user`: the account this identity is bound to already (allauth found
    it), else None. `invitation_key`: the invitation whose link started this
    sign-in. Open invitations to the identity's verified addresses are
    accepted too. A new identity is bound (`bind(user)`, inside the same
    transaction) to the account matching its username value or verified
    address, or to a new account when only an invitation matches.

    Raises StaffError "not_invited" (nothing created, nothing bound) when
    the result would be an account without access to any team; "used",
    "revoked" or "expired" when the invitation of the link no longer works;
    "username_race" (nothing created) when a new account's username was taken by
    other sign-ins at the same moment, again and again.
    """
    with transaction.atomic():
        by_link = Invitation.objects.filter(key=invitation_key).first() if invitation_key else None
        if by_link is not None and not by_link.is_usable():
            code = {Invitation.Status.ACCEPTED: "used", Invitation.Status.REVOKED: "revoked"}.get(
                by_link.status, "expired"
            )
            raise StaffError(
                _("This invitation no longer works: ask an organizer of the series for a new one."), code=code
            )
        by_email = []
        for email in identity.verified_emails:
            by_email += Invitation.objects.usable().filter(email__iexact=email).select_related("series")
        invitations = list({invitation.pk: invitation for invitation in [by_link, *by_email] if invitation}.values())

        user = known_user or matching_account(identity)
        if user is not None and not user.is_active:
            user = None
        if user is None and not invitations:
            raise StaffError(_("You are not on the team of any series here."), code="not_invited")
        if user is not None and not invitations and not has_staff_access(user):
            raise StaffError(_("You are not on the team of any series here."), code="not_invited")
        if user is None:
            user = _new_account(identity, invitations)
        if known_user is None and bind is not None:
            bind(user)
        for invitation in invitations:
            accept_invitation(invitation=invitation, user=user, method=identity.method, request=request)
        if not has_staff_access(user):
            raise StaffError(_("You are not on the team of any series here."), code="not_invited")
    return user


def refuse(*, identity: Identity, error: StaffError, request=None) -> None:
    """Log a refused sign-in through a provider (the person sees the error's page)."""
    audit.record(
        audit.Kind.SIGN_IN_REFUSED,
        request=request,
        actor=None,
        username=(identity.verified_emails[:1] or [identity.username or identity.uid])[0],
        method=identity.method,
        detail=error.code,
    )

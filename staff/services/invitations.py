import datetime

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Series, SeriesMember
from outbox.models import OutgoingMail
from outbox.services import queue_mail, skip_pending
from seminar_site import i18n
from seminar_site.addresses import ascii_address

from .. import audit, emails
from ..models import INVITATION_SALT, Invitation
from .errors import StaffError

Role = SeriesMember.Role


def may_manage_team(user, series: Series) -> bool:
    """Superusers, and the organizers of `series`."""
    return Series.objects.managed_by(user).filter(pk=series.pk).exists()


def _normalized_email(email: str) -> str:
    email = " ".join((email or "").split())
    try:
        validate_email(email)
    except ValidationError:
        raise StaffError(_("That is not a valid email address."), code="invalid_email") from None
    # Valid, so its domain has an ASCII spelling.
    local, _at, domain = ascii_address(email).rpartition("@")
    return f"{local}@{domain.lower()}"


def invite(*, series: Series, email: str, role: str, actor, request=None, now=None) -> Invitation:
    """Invite `email` to the team of `series` in `role`; the link goes out through the outbox once this commits.

    The link works for STAFF_INVITATION_DAYS days, once. An open invitation
    of the same address to the same series is replaced (its link stops
    working). Raises StaffError: "not_allowed" unless `actor` organizes
    `series` or is a superuser; "invalid_email"; "invalid_role";
    "already_member" when the address's account is on the team in that role.
    """
    now = now or timezone.now()
    if not may_manage_team(actor, series):
        raise StaffError(_("Only the organizers of this series can invite people to its team."), code="not_allowed")
    if role not in Role.values:
        raise StaffError(_("Choose a role: organizer or door staff."), code="invalid_role")
    email = _normalized_email(email)
    if SeriesMember.objects.filter(series=series, user__email__iexact=email, role=role).exists():
        raise StaffError(
            _("%(email)s is already on the team of this series as %(role)s.")
            % {"email": email, "role": Role(role).label},
            code="already_member",
        )
    try:
        with transaction.atomic():
            replaced = list(Invitation.objects.select_for_update().pending().filter(series=series, email__iexact=email))
            for old in replaced:
                _revoke(old, actor=actor, now=now)
            invitation = Invitation.objects.create(
                series=series,
                email=email,
                role=role,
                invited_by=actor,
                expires_at=now + datetime.timedelta(days=settings.STAFF_INVITATION_DAYS),
            )
            queue_mail(kind=emails.INVITATION, to=email, about=invitation, data={"language": i18n.current()})
            audit.record(
                audit.Kind.INVITATION_SENT,
                request=request,
                actor=actor,
                username=email,
                series=series,
                detail=Role(role).label,
            )
    except IntegrityError:
        # Another organizer's invitation of the same address won the race.
        raise StaffError(
            _("%(email)s was invited to this series a moment ago.") % {"email": email}, code="already_invited"
        ) from None
    return invitation


def _revoke(invitation: Invitation, *, actor, now) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.REVOKED, revoked_at=now, revoked_by=actor
    )
    skip_pending(mails=OutgoingMail.objects.about(invitation), reason=_("The invitation was revoked."))


def revoke_invitation(*, invitation: Invitation, actor, request=None, now=None) -> bool:
    """Stop `invitation`'s link working at once (and its email, if still queued).

    Returns False, changing nothing, when it is no longer pending (accepted or
    revoked before). Raises StaffError "not_allowed" unless `actor` organizes its series.
    """
    now = now or timezone.now()
    if not may_manage_team(actor, invitation.series):
        raise StaffError(_("Only the organizers of this series can revoke its invitations."), code="not_allowed")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).pending().first()
        if locked is None:
            return False
        _revoke(locked, actor=actor, now=now)
        audit.record(
            audit.Kind.INVITATION_REVOKED, request=request, actor=actor, username=locked.email, series=locked.series
        )
    invitation.refresh_from_db()
    return True


def _link_refused(request, code: str, message: str, invitation: Invitation | None = None) -> StaffError:
    audit.record(
        audit.Kind.INVITATION_REFUSED,
        request=request,
        actor=None,
        username=invitation.email if invitation else "",
        series=invitation.series if invitation else None,
        detail=code,
    )
    return StaffError(message, code=code)


def invitation_from_token(*, token: str, request=None, now=None) -> Invitation:
    """The invitation whose link carries `token`, if the link still works.

    Raises StaffError (and logs the refusal): "invalid" for a token that is
    not ours or was altered; "expired"; "used" when it was accepted already;
    "revoked".
    """
    now = now or timezone.now()
    try:
        value = signing.Signer(salt=INVITATION_SALT).unsign(token or "")
        key, _dot, expires = value.rpartition(".")
        expires_at = datetime.datetime.fromtimestamp(int(expires), tz=datetime.UTC)
    except (signing.BadSignature, ValueError, OverflowError):
        raise _link_refused(
            request,
            "invalid",
            _("This invitation link is not valid. Check that you copied all of it, or ask for a new one."),
        ) from None
    invitation = Invitation.objects.select_related("series", "invited_by").filter(key=key).first()
    if invitation is None:
        raise _link_refused(
            request,
            "invalid",
            _("This invitation link is not valid. Check that you copied all of it, or ask for a new one."),
        )
    if invitation.status == Invitation.Status.ACCEPTED:
        raise _link_refused(
            request,
            "used",
            _("This invitation was accepted already. Sign in to reach the team's pages."),
            invitation,
        )
    if invitation.status == Invitation.Status.REVOKED:
        raise _link_refused(
            request,
            "revoked",
            _("This invitation was withdrawn. Ask an organizer of the series for a new one if you need it."),
            invitation,
        )
    if min(expires_at, invitation.expires_at) <= now:
        raise _link_refused(
            request,
            "expired",
            _("This invitation has expired. Ask an organizer of the series to invite you again."),
            invitation,
        )
    return invitation


def accept_invitation(*, invitation: Invitation, user, method: str, request=None, now=None) -> SeriesMember:
    """Put `user` on the team of the invitation's series in its role, once; the invitation is used up.

    A member of the team in another role takes the invited one. Raises
    StaffError "used", "revoked" or "expired" when the invitation no longer
    works (a second click, another tab, a revocation in between): nothing changes then.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("series").get(pk=invitation.pk)
        if locked.status == Invitation.Status.ACCEPTED:
            raise StaffError(_("This invitation was accepted already."), code="used")
        if locked.status == Invitation.Status.REVOKED:
            raise StaffError(_("This invitation was withdrawn."), code="revoked")
        if locked.expires_at <= now:
            raise StaffError(_("This invitation has expired."), code="expired")
        member = SeriesMember.objects.filter(series=locked.series, user=user).first()
        if member is None:
            member = SeriesMember.objects.create(series=locked.series, user=user, role=locked.role)
        elif member.role != locked.role:
            member.role = locked.role
            member.save()
        Invitation.objects.filter(pk=locked.pk).update(
            status=Invitation.Status.ACCEPTED, accepted_at=now, accepted_by=user, accepted_with=method[:100]
        )
        audit.record(
            audit.Kind.INVITATION_ACCEPTED,
            request=request,
            user=user,
            actor=user,
            series=locked.series,
            method=method,
            detail=locked.get_role_display(),
        )
    invitation.refresh_from_db()
    return member


def accept_with_new_password_account(*, invitation: Invitation, username: str, password: str, request=None, now=None):
    """Create a password account for the invited person and put it on the team: the path without a provider.

    Only while PASSWORD_LOGIN is on. The password must pass the site's
    validators; the email is the invited address. Raises StaffError:
    "password_login_off"; "account_exists" when that address already has an
    account (its owner signs in and accepts instead); "username_taken";
    "invalid_account" (a username or password the validators refuse; the message says why); or those of
    accept_invitation.
    """
    if not settings.PASSWORD_LOGIN:
        raise StaffError(
            _("Password sign-in is off on this site: accept with your institution's sign-in."),
            code="password_login_off",
        )
    User = get_user_model()
    username = " ".join((username or "").split())
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise StaffError(
            _("This address already has an account here: sign in with it, then open the invitation again."),
            code="account_exists",
        )
    if not username or User.objects.filter(username__iexact=username).exists():
        raise StaffError(_("This username is taken: choose another."), code="username_taken")
    user = User(username=username, email=invitation.email)
    try:
        User._meta.get_field("username").run_validators(username)
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise StaffError(" ".join(error.messages), code="invalid_account") from None
    with transaction.atomic():
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Someone took the username between the check above and this insert.
            raise StaffError(_("This username is taken: choose another."), code="username_taken") from None
        accept_invitation(invitation=invitation, user=user, method="password", request=request, now=now)
    return user

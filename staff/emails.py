"""The emails of staff sign-in, as the outbox sends them: a team invitation, a warning of password guessing."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from outbox.compose import compose, mailbox
from seminar_site.i18n import in_language

from . import providers
from .models import Invitation

INVITATION = "staff.invitation"
GUESSING = "staff.guessing"


def build_invitation(mail):
    """In the language of the organizer who sent it (the invitation page then follows the browser)."""
    with in_language(mail.data.get("language")):
        return _invitation(mail)


def _invitation(mail):
    invitation = Invitation.objects.select_related("series", "invited_by").get(pk=mail.about_id)
    series = invitation.series
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "series": series,
        "role": invitation.get_role_display(),
        "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else series.organizer_name,
        "accept_url": invitation.url,
        "providers": [provider.name for provider in providers.configured()],
        "password_login": settings.PASSWORD_LOGIN,
        "site_url": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
    }
    return compose(
        to=[invitation.email],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        subject=_("You are invited to the team of the %(series)s") % {"series": series.name},
        text=render_to_string("staff/email/invitation.txt", context),
        html=render_to_string("staff/email/invitation.html", context),
    )


def invitation_still_wanted(mail) -> str:
    invitation = mail.about
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return str(_("The invitation was revoked or answered before this message went out."))
    if not invitation.is_usable():
        return str(_("The invitation expired before this message went out."))
    return ""


def build_guessing(mail):
    """In the site's language: the account holder has no language of their own here."""
    with in_language(mail.data.get("language")):
        user = get_user_model()._default_manager.get(pk=mail.about_id)
        context = {
            "name": user.get_full_name() or user.get_username(),
            "username": user.get_username(),
            "addresses": mail.data.get("addresses", 0),
            "providers": [provider.name for provider in providers.configured()],
            "account_url": settings.SITE_URL + reverse("staff:account"),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
        }
        return compose(
            to=[user.email],
            subject=_("Someone is trying to guess your password at %(site)s") % {"site": settings.SITE_NAME},
            text=render_to_string("staff/email/guessing.txt", context),
            html=render_to_string("staff/email/guessing.html", context),
        )


def staff_scope(user, roles) -> Q:
    """The invitations to the teams of the user's series (warnings of guessing are for superusers)."""
    return Q(
        kind=INVITATION,
        about_type=ContentType.objects.get_for_model(Invitation),
        about_id__in=Invitation.objects.managed_by(user, roles=roles).values("pk"),
    )

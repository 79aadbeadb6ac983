"""Staff sign-in: team invitations, the audit log, and each person's session generation."""

import secrets
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Series, SeriesMember, scope_to_series

# The link's one power: accept this invitation to this series' team.
INVITATION_SALT = "staff.invitation"


def new_key() -> str:
    return secrets.token_urlsafe(24)


class InvitationQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        """Invitations to the teams of the series `user` organizes (see `scope_to_series`)."""
        return scope_to_series(self, user, series_path="series", roles=roles)

    def pending(self):
        return self.filter(status=Invitation.Status.PENDING)

    def usable(self, now: datetime | None = None):
        """Pending and before their deadline: the links that still work."""
        return self.pending().filter(expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    """An organizer's invitation of one email address to their series' team, in one role."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    series = models.ForeignKey(Series, models.CASCADE, related_name="invitations", verbose_name=_("series"))
    email = models.EmailField(_("email"), max_length=254)
    role = models.CharField(_("role"), max_length=20, choices=SeriesMember.Role)
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("works until"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
        help_text=_("The account the invitation was bound to."),
    )
    accepted_with = models.CharField(_("signed in with"), max_length=100, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("team invitation")
        verbose_name_plural = _("team invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A second invitation replaces the first (staff.services.invite); two at once are refused here.
            models.UniqueConstraint(
                "series",
                Lower("email"),
                condition=Q(status="pending"),
                name="invitation_one_open_per_series_and_email",
                violation_error_message=_("This address already has an open invitation to this series."),
            ),
            models.CheckConstraint(condition=Q(role__in=["organizer", "door"]), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "revoked"]), name="invitation_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_at__isnull=False), name="invitation_accepted_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="invitation_revoked_has_time"
            ),
        ]

    def __str__(self):
        return _("%(email)s to the team of %(series)s") % {"email": self.email, "series": self.series}

    def get_absolute_url(self):
        return reverse("staff:team", args=[self.series_id])

    @property
    def token(self) -> str:
        # The deadline travels signed with the key: a link states its own expiry.
        return signing.Signer(salt=INVITATION_SALT).sign(f"{self.key}.{int(self.expires_at.timestamp())}")

    @property
    def url(self) -> str:
        return settings.SITE_URL + reverse("staff:invitation", args=[self.token])

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > (now or timezone.now())

    @property
    def state_label(self) -> str:
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return _("Expired")
        return self.get_status_display()


class AuditEntryQuerySet(models.QuerySet):
    def of_user(self, user):
        return self.filter(Q(user=user) | Q(actor=user))

    def written_before(self, moment):
        return self.filter(at__lt=moment)


class AuditEntry(models.Model):
    """One sign-in, failure, invitation or team change: who, from where (masked), when."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_IN_REFUSED = "sign_in_refused", _("Sign-in refused")
        ACCOUNT_SLOWED = "account_slowed", _("Password guessing from many addresses")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor failed")
        SECOND_FACTOR_ADDED = "second_factor_added", _("Second factor added")
        SECOND_FACTOR_REMOVED = "second_factor_removed", _("Second factor removed")
        SIGNED_OUT = "signed_out", _("Signed out")
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("Signed out everywhere")
        SESSION_EXPIRED = "session_expired", _("Signed out after inactivity")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        INVITATION_REFUSED = "invitation_refused", _("Invitation link refused")
        MEMBER_ADDED = "member_added", _("Added to a team")
        ROLE_CHANGED = "role_changed", _("Role changed")
        MEMBER_REMOVED = "member_removed", _("Taken off a team")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("what"), max_length=40, choices=Kind)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
        help_text=_("The account concerned."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Who did it, when someone else than the account."),
    )
    username = models.CharField(_("username"), max_length=150, blank=True, help_text=_("As typed; addresses masked."))
    series = models.ForeignKey(
        Series, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("series")
    )
    address = models.CharField(_("from"), max_length=64, blank=True, help_text=_("The client's network, masked."))
    method = models.CharField(_("how"), max_length=100, blank=True)
    detail = models.CharField(_("details"), max_length=300, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-in and team log entry")
        verbose_name_plural = _("sign-in and team log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="auditentry_user_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.username or self.user or '-'}"

    def get_absolute_url(self):
        return reverse("admin:staff_auditentry_change", args=[self.pk])


class SessionGeneration(models.Model):
    """How many times a person was signed out everywhere: a session signed in under an older number has ended.

    Read with the user on every request (staff.backends) at no extra query.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        primary_key=True,
        related_name="session_generation",
        verbose_name=_("account"),
    )
    number = models.PositiveIntegerField(_("generation"), default=0)
    changed_at = models.DateTimeField(_("last signed out everywhere"), auto_now=True)

    class Meta:
        verbose_name = _("session generation")
        verbose_name_plural = _("session generations")
        ordering = ["user"]

    def __str__(self):
        return f"{self.user} · {self.number}"

    def get_absolute_url(self):
        return reverse("staff:account")

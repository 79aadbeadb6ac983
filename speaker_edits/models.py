import secrets

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event, Speaker, scope_to_series

# The link's one power: edit the texts of this invitation's talk and speaker.
LINK_SALT = "speaker_edits.link"


def new_key() -> str:
    return secrets.token_urlsafe(24)


class InvitationQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="event__series", roles=roles)

    def usable(self, now=None):
        """Not revoked and before their deadline."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class SpeakerInvitation(models.Model):
    """A link an organizer sent a speaker to edit their talk's title and abstract and their own profile."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="speaker_invitations", verbose_name=_("talk"))
    speaker = models.ForeignKey(Speaker, models.CASCADE, related_name="invitations", verbose_name=_("speaker"))
    email = models.EmailField(_("sent to"), max_length=254)
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("sent by")
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("works until"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("speaker's edit link")
        verbose_name_plural = _("speakers' edit links")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return _("%(speaker)s, %(talk)s") % {"speaker": self.speaker.name, "talk": self.event.title}

    def get_absolute_url(self):
        return reverse("speaker_edits:event", args=[self.event_id])

    @property
    def token(self) -> str:
        # Signed with the talk: a link cannot be moved to another talk's address.
        return signing.Signer(salt=LINK_SALT).sign(f"{self.event_id}:{self.key}")

    @property
    def url(self) -> str:
        path = reverse("speaker_edits:edit", kwargs={"event_id": self.event_id, "token": self.token})
        return settings.SITE_URL + path

    def is_usable(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def state_label(self) -> str:
        if self.revoked_at is not None:
            return _("revoked")
        if self.expires_at <= timezone.now():
            return _("expired")
        return _("works")


class SpeakerEditQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="event__series", roles=roles)

    def update_pending(self):
        return self.filter(invite_update=SpeakerEdit.InviteUpdate.PENDING)


class SpeakerEdit(models.Model):
    """One change a speaker saved through their link: what the fields said before and after."""

    class InviteUpdate(models.TextChoices):
        NOT_NEEDED = "not_needed", _("Not needed")
        PENDING = "pending", _("Waiting for the organizer")
        SENT = "sent", _("Sent to registrants")
        DECLINED = "declined", _("Not sent (the organizer's choice)")

    invitation = models.ForeignKey(SpeakerInvitation, models.CASCADE, related_name="edits", verbose_name=_("link used"))
    event = models.ForeignKey(Event, models.CASCADE, related_name="speaker_edits", verbose_name=_("talk"))
    speaker = models.ForeignKey(Speaker, models.CASCADE, related_name="edits", verbose_name=_("speaker"))
    # The preview the speaker confirmed: a second submit of the same one saves nothing.
    draft_id = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)
    # {field name: value}, for the changed fields only; "photo" holds a SpeakerPhoto digest ("" for none).
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    # What registrants' invites show that changed, as send_event_update names it ("title", "abstract", "speakers").
    invite_changes = models.JSONField(_("changes invites show"), default=list)
    invite_update = models.CharField(
        _("update to registrants"), max_length=20, choices=InviteUpdate, default=InviteUpdate.NOT_NEEDED
    )
    invite_update_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    invite_update_decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = SpeakerEditQuerySet.as_manager()

    class Meta:
        verbose_name = _("speaker's edit")
        verbose_name_plural = _("speakers' edits")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invite_update__in=["not_needed", "pending", "sent", "declined"]),
                name="speakeredit_invite_update_valid",
            ),
        ]

    def __str__(self):
        return _("%(speaker)s's edit of %(talk)s") % {"speaker": self.speaker.name, "talk": self.event.title}

    def get_absolute_url(self):
        return reverse("speaker_edits:event", args=[self.event_id])

    @property
    def changed_fields(self) -> list[str]:
        return list(self.after)

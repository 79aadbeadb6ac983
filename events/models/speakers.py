"""Speakers and their uploaded photos."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .events import _PUBLIC, Event
from .series import _is_staff


class SpeakerQuerySet(models.QuerySet):
    def managed_by(self, user):
        """Speakers a staff user may see: on no talk yet, on a public talk, or on a talk of their series.

        Speakers are shared between series, but one announced only in another
        series' draft is that series' secret.
        """
        if not _is_staff(user):
            return self.none()
        if user.is_superuser:
            return self
        talks = Event.objects.filter(speakers=OuterRef("pk"))
        return self.filter(~Exists(talks) | Exists(talks.filter(Q(_PUBLIC) | Q(pk__in=Event.objects.managed_by(user)))))


class SpeakerPhotoQuerySet(models.QuerySet):
    def unused(self):
        """Photos no speaker shows: replaced, removed, or uploaded for a preview never saved."""
        return self.exclude(Exists(Speaker.objects.filter(photo=OuterRef("pk"))))


class SpeakerPhoto(models.Model):
    """A speaker's photo as the site serves it: a small JPEG with no metadata, kept in the database.

    In the database so that every web host serves it without a shared disk;
    named by the SHA-256 of its bytes, so its URL never changes meaning. A photo
    no speaker shows any more is erased (events.services.erase_unused_photos):
    from then on its URL answers 404.
    """

    digest = models.CharField(_("SHA-256"), max_length=64, primary_key=True)
    data = models.BinaryField(_("JPEG bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    # Renewed by each preview that shows it: a photo nobody saved is erased a while after its last preview.
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = SpeakerPhotoQuerySet.as_manager()

    CONTENT_TYPE = "image/jpeg"

    class Meta:
        verbose_name = _("speaker photo")
        verbose_name_plural = _("speaker photos")
        constraints = [
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="speakerphoto_digest_hex"),
        ]

    def __str__(self):
        return f"{self.digest[:12]} ({self.width}×{self.height})"

    def get_absolute_url(self):
        return photo_path(self.digest)


def photo_path(digest: str) -> str:
    return reverse("events:speaker_photo", kwargs={"digest": digest})


class Speaker(models.Model):
    name = models.CharField(_("name"), max_length=200)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True, help_text=_("e.g. Associate Professor"))
    bio = models.TextField(_("bio"), blank=True)
    photo_url = models.URLField(_("photo URL"), blank=True)
    # An uploaded photo, shown instead of photo_url; its id is the digest, so
    # showing it needs no join. PROTECT, and the database's foreign key: erasing
    # a photo never takes it from a speaker (whoever gives one locks it first,
    # as speaker_edits.services.save_edit does, so that the erasing waits).
    photo = models.ForeignKey(
        SpeakerPhoto,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded photo"),
        help_text=_("Uploaded by the speaker; shown instead of the photo URL."),
    )
    website = models.URLField(_("website"), blank=True)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.affiliation})" if self.affiliation else self.name

    @property
    def photo_src(self) -> str:
        """Where the speaker's photo is: the uploaded one (a path on this site), else photo_url, else ""."""
        return photo_path(self.photo_id) if self.photo_id else self.photo_url

    @property
    def photo_absolute_url(self) -> str:
        """photo_src as a full URL, for other sites (previews, the JSON listing)."""
        src = self.photo_src
        return settings.SITE_URL + src if src.startswith("/") else src

"""A talk's materials (links and uploaded PDFs, each with who may see it) and the announcements that they are up."""

import re
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from events import materials as talk_materials
from events.models import Event, Speaker, scope_to_series
from registrations.models import ATTENDED_IN_THE_ROOM, ATTENDED_ONLINE, Registration

from .storage import materials_storage

# The signed link that shows a registrant the materials of their talk: one power, its own salt.
REGISTRANT_LINK_SALT = "materials.registrant"


def new_key() -> str:
    return secrets.token_urlsafe(18)


def file_name(instance, filename) -> str:
    # Nothing of the uploaded name in the stored one: it is the random key (and the talk, to browse by).
    return f"materials/{instance.event_id}/{instance.key}.pdf"


class Kind(models.TextChoices):
    SLIDES = talk_materials.SLIDES, _("Slides")
    RECORDING = talk_materials.RECORDING, _("Recording")
    PAPER = talk_materials.PAPER, _("Paper")
    CODE = talk_materials.CODE, _("Code")
    OTHER = talk_materials.OTHER, _("Other")


class Visibility(models.TextChoices):
    PUBLIC = talk_materials.PUBLIC, _("Everyone")
    REGISTRANTS = talk_materials.REGISTRANTS, _("Registrants only")
    STAFF = talk_materials.STAFF, _("Staff of the series only")


class MaterialQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="event__series", roles=roles)

    def public(self):
        """Materials anyone may see: public ones of talks the public may see."""
        return self.filter(visibility=Visibility.PUBLIC).filter(event__in=Event.objects.published())

    def for_registration(self, registration: Registration):
        """What a registrant of the talk sees through their own link: public and registrants-only materials."""
        return self.filter(event_id=registration.event_id, visibility__in=[Visibility.PUBLIC, Visibility.REGISTRANTS])

    def files(self):
        return self.exclude(file="")


class Material(models.Model):
    """A link (slides, a recording, a paper, code) or an uploaded PDF of one talk, and who may see it."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="materials", verbose_name=_("talk"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.SLIDES)
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("As listed, e.g. “Slides of the talk”. Empty: the kind, in the reader's language."),
    )
    visibility = models.CharField(
        _("who may see it"),
        max_length=20,
        choices=Visibility,
        default=Visibility.PUBLIC,
        help_text=_(
            "Registrants see theirs through the link in their email; staff of the series when signed in. "
            "Only materials for everyone appear on the talk page, the archive, the feeds and the listings."
        ),
    )
    url = models.URLField(
        _("link"), max_length=1000, blank=True, help_text=_("A page on another site: the video, the paper, the code.")
    )
    file = models.FileField(
        _("PDF file"),
        storage=materials_storage,
        upload_to=file_name,
        max_length=300,
        blank=True,
        help_text=_("Or upload a PDF (checked before it is kept)."),
    )
    # The uploaded file's own name (what a download is called) and what it was checked to be.
    filename = models.CharField(_("file name"), max_length=200, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    # In addresses instead of the id: a staff-only file's address says nothing about the others.
    key = models.CharField(max_length=32, unique=True, default=new_key, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("added by")
    )
    added_by_speaker = models.ForeignKey(
        Speaker,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by the speaker"),
        help_text=_("Through the speaker's own edit link."),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # When it became visible to everyone (the followers' digest lists the week's new recordings).
    public_since = models.DateTimeField(_("public since"), null=True, blank=True, editable=False)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(url="") & Q(file="")) | (Q(url="") & ~Q(file="")),
                name="material_link_or_file",
                # Forms show it (model validation checks constraints), once, and not when the link itself was refused.
                violation_error_code="link_or_file",
                violation_error_message=_("Give a link or upload a PDF file (one of them)."),
            ),
            models.CheckConstraint(condition=Q(file="") | Q(size__gt=0), name="material_file_not_empty"),
            # Uploads are PDFs: a recording is a link to where it plays.
            models.CheckConstraint(condition=~Q(kind="recording") | Q(file=""), name="material_recording_is_a_link"),
            models.CheckConstraint(
                condition=Q(kind__in=["slides", "recording", "paper", "code", "other"]), name="material_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "registrants", "staff"]), name="material_visibility_valid"
            ),
            models.CheckConstraint(
                condition=~Q(visibility="public") | Q(public_since__isnull=False), name="material_public_since_set"
            ),
        ]
        indexes = [models.Index(fields=["visibility", "public_since"])]

    def __str__(self):
        return f"{self.display_title} ({self.event})"

    def get_absolute_url(self):
        if self.file:
            return reverse("materials:file", kwargs={"key": self.key, "filename": self.download_name})
        return self.url

    def clean(self):
        self._note_when_public()
        if self.kind == Kind.RECORDING and self.file:
            raise ValidationError(
                {"kind": ValidationError(_("A recording is a link to where it plays."), code="recording_file")}
            )

    def save(self, *args, **kwargs):
        self._note_when_public()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "public_since"}
        super().save(*args, **kwargs)

    def _note_when_public(self):
        if self.visibility == Visibility.PUBLIC and self.public_since is None:
            self.public_since = timezone.now()
        elif self.visibility != Visibility.PUBLIC:
            self.public_since = None

    @property
    def display_title(self) -> str:
        return self.title or str(self.get_kind_display())

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def download_name(self) -> str:
        """What a download of the file is called: its uploaded name, made safe, ending in .pdf."""
        stem = self.filename.rsplit(".", 1)[0] if self.filename else ""
        try:
            stem = re.sub(r"_+", "_", get_valid_filename(stem)).strip("_.")
        except SuspiciousFileOperation:  # nothing usable left of the name
            stem = ""
        return f"{stem or self.kind}.pdf"

    def path_for(self, registration: Registration | None = None) -> str:
        """This site's address of the file: through a registrant's own link for what only registrants see."""
        if registration is not None and self.visibility == Visibility.REGISTRANTS:
            return reverse(
                "materials:registrant_file",
                kwargs={"token": registrant_token(registration), "key": self.key, "filename": self.download_name},
            )
        return self.get_absolute_url()

    def link_for(self, registration: Registration | None = None) -> str:
        """Where a link to this material leads, as an absolute URL (for emails, feeds and listings)."""
        return settings.SITE_URL + self.path_for(registration) if self.file else self.url

    def as_talk_material(self, registration: Registration | None = None) -> talk_materials.TalkMaterial:
        path = self.path_for(registration) if self.file else ""
        return talk_materials.TalkMaterial(
            event_id=self.event_id,
            kind=self.kind,
            kind_label=self.get_kind_display(),
            title=self.display_title,
            url=self.link_for(registration),
            visibility=self.visibility,
            visibility_label=self.get_visibility_display(),
            added_at=self.public_since or self.created_at,
            media_type="application/pdf" if self.file else "",
            size=self.size if self.file else None,
            path=path,
        )


def registrant_token(registration: Registration) -> str:
    return signing.Signer(salt=REGISTRANT_LINK_SALT).sign(registration.key)


def registrant_path(registration: Registration) -> str:
    """The registrant's own page of their talk's materials."""
    return reverse("materials:registrant", kwargs={"token": registrant_token(registration)})


class Audience(models.TextChoices):
    """Who of a talk's registrants an announcement goes to (cancelled and erased registrations never)."""

    ATTENDED = "attended", _("Attended in the room")
    ATTENDED_ONLINE = "attended_online", _("Attended online")
    WAITED = "waited", _("Waited and never got in")
    NO_SHOW = "no_show", _("Did not come (no-shows)")


AUDIENCE_FILTERS = {
    Audience.ATTENDED: ATTENDED_IN_THE_ROOM,
    Audience.ATTENDED_ONLINE: ATTENDED_ONLINE,
    Audience.WAITED: Q(status=Registration.Status.WAITLISTED),
    Audience.NO_SHOW: Q(
        status=Registration.Status.CONFIRMED,
        attendance=Registration.Attendance.IN_PERSON,
        checked_in_at__isnull=True,
    ),
}


class AnnouncementQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="event__series", roles=roles)


class Announcement(models.Model):
    """ "The slides and recording are up": one email to each chosen registrant of a talk, once."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="material_announcements", verbose_name=_("talk"))
    audience = models.JSONField(_("to"), default=list, help_text=_("Registrants chosen by what they did."))
    note = models.TextField(
        _("a few words from you"),
        max_length=2000,
        blank=True,
        help_text=_("Optional, plain text: shown above the list of materials."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("written by")
    )
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("sent by")
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, blank=True)

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        verbose_name = _("announcement of materials")
        verbose_name_plural = _("announcements of materials")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(recipient_count__isnull=False),
                name="material_announcement_sent_has_count",
            ),
        ]

    def __str__(self):
        return _("Materials of %(talk)s") % {"talk": self.event}

    def get_absolute_url(self):
        return reverse("admin:materials_announcement_change", args=[self.pk])

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def once_key(self) -> str:
        """With the kind and the registration: one email per person per announcement, ever (the outbox's constraint)."""
        return f"announcement:{self.pk}"

    def recipients(self):
        """The registrations this goes to now: the chosen groups, never cancelled or erased ones."""
        condition = Q(pk__in=[])
        for audience in self.audience:
            condition |= AUDIENCE_FILTERS.get(audience, Q(pk__in=[]))
        return (
            Registration.objects.filter(event_id=self.event_id, erased_at__isnull=True)
            .exclude(status=Registration.Status.CANCELLED)
            .filter(condition)
            .order_by("created_at", "pk")
        )

"""The secret link of a series' screen by the door: whoever has it sees the screen, nothing else."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import Series, scope_to_series


def new_key() -> str:
    return secrets.token_urlsafe(24)


class DoorScreenQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="series", roles=roles)


class DoorScreen(models.Model):
    """A series' screen link. A new key (rotating the link) makes the old address answer 404 at once."""

    series = models.OneToOneField(Series, models.CASCADE, related_name="door_screen", verbose_name=_("series"))
    # The link's only secret; the screen shows nothing personal, so a random key suffices.
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    changed_at = models.DateTimeField(_("link changed"), auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("changed by")
    )

    objects = DoorScreenQuerySet.as_manager()

    class Meta:
        verbose_name = _("screen by the door")
        verbose_name_plural = _("screens by the door")
        ordering = ["series"]

    def __str__(self):
        return str(self.series)

    def get_absolute_url(self):
        return reverse("doorscreen:screen", kwargs={"key": self.key})

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.get_absolute_url()

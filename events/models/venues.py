"""Venues: the rooms talks happen in, each with its time zone."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone %(value)s."), params={"value": value}, code="invalid_time_zone")


def default_time_zone():
    return settings.TIME_ZONE


class Venue(models.Model):
    room = models.CharField(_("room"), max_length=100, help_text=_("e.g. GDC 6.302"))
    building = models.CharField(_("building"), max_length=200, blank=True, help_text=_("e.g. Gates Dell Complex"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    default_capacity = models.PositiveIntegerField(_("default capacity"))
    map_url = models.URLField(_("map link"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["room"]
        constraints = [
            models.UniqueConstraint(fields=["room", "building"], name="venue_unique_room_building"),
        ]

    def __str__(self):
        return f"{self.room}, {self.building}" if self.building else self.room

    def save(self, *args, **kwargs):
        moved = (
            self.pk is not None
            and Venue.objects.filter(pk=self.pk)
            .exclude(room=self.room, building=self.building, address=self.address)
            .exists()
        )
        super().save(*args, **kwargs)
        if moved:
            # A renamed room moves every talk booked in it, as far as calendars know.
            for event in self.events.published().upcoming().select_related("venue"):
                event.venue_changed()

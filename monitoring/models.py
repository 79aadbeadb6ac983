from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a background process last finished a round of its work (monitoring/heartbeats.py).

    The processes that serve no HTTP (the sweeper) cannot be scraped; the web
    hosts read this row instead and report its age.
    """

    process = models.CharField(_("process"), max_length=50, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.process} ({self.seen_at:%Y-%m-%d %H:%M:%S})"

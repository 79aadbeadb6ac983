from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import registry


class OutgoingMailQuerySet(models.QuerySet):
    def about(self, target):
        """Messages about `target`: a model instance, or a QuerySet of them (one model)."""
        if isinstance(target, models.QuerySet):
            content_type = ContentType.objects.get_for_model(target.model)
            return self.filter(about_type=content_type, about_id__in=target.values("pk"))
        return self.filter(about_type=ContentType.objects.get_for_model(target), about_id=target.pk)

    def managed_by(self, user, roles=None):
        """The messages `user` may see in staff pages: superusers all, other staff what apps' scopes allow."""
        if user.is_active and user.is_superuser:
            return self
        if not (user.is_active and user.is_staff):
            return self.none()
        condition = Q(pk__in=[])
        for scope in registry.scopes():
            condition |= scope(user, roles)
        return self.filter(condition)

    def of_kind(self, *kinds):
        return self.filter(kind__in=kinds)

    def delivery_counts(self) -> dict[str, int]:
        """How these messages fared, in one query: sent, waiting (pending or sending), failed, skipped, bounced."""
        status = OutgoingMail.Status
        return self.aggregate(
            sent=models.Count("pk", filter=Q(status=status.SENT)),
            waiting=models.Count("pk", filter=Q(status__in=[status.PENDING, status.SENDING])),
            failed=models.Count("pk", filter=Q(status=status.FAILED)),
            skipped=models.Count("pk", filter=Q(status=status.SKIPPED)),
            bounced=models.Count("pk", filter=Q(bounced_at__isnull=False)),
        )

    def due(self, now, grace=None):
        """Pending rows whose time has come; with `grace`, fresh rows only once
        they are that old (until then the wake-up their commit asked for owns them)."""
        fresh = Q(next_attempt_at__isnull=True)
        if grace is not None:
            fresh &= Q(created_at__lte=now - grace)
        return self.filter(status=OutgoingMail.Status.PENDING).filter(fresh | Q(next_attempt_at__lte=now))


class OutgoingMail(models.Model):
    """One message to one recipient, written in the transaction that causes it.

    The outbox sends it at most once (see delivery.py). What the message is
    about (`about`, e.g. a registration) and `data` belong to the app that
    registered its `kind`; the outbox stores them and never looks inside.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent: no longer wanted")

    kind = models.CharField(_("kind"), max_length=100, db_index=True)
    recipient = models.CharField(
        _("to"), max_length=320, blank=True, help_text=_("The address the message went (or goes) to.")
    )
    about_type = models.ForeignKey(
        ContentType, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("about (type)")
    )
    about_id = models.PositiveBigIntegerField(_("about (id)"), null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # Together with kind and about: at most one message per key, ever (a
    # reminder per talk start, an announcement per talk). Empty: no such rule.
    once_key = models.CharField(_("sent once per"), max_length=200, blank=True, editable=False)
    data = models.JSONField(_("data"), default=dict, blank=True, editable=False)

    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sending_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_type = models.CharField(
        _("bounce"),
        max_length=30,
        blank=True,
        help_text=_("As the provider reported it: bounced, rejected, complained."),
    )
    bounce_detail = models.TextField(_("bounce details"), blank=True)

    objects = OutgoingMailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["about_type", "about_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "about_type", "about_id", "once_key"],
                condition=~Q(once_key=""),
                name="outgoingmail_once_per_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed", "skipped"]),
                name="outgoingmail_status_valid",
            ),
        ]

    def __str__(self):
        return _("%(kind)s to %(recipient)s") % {"kind": self.kind_label, "recipient": self.recipient or "?"}

    @property
    def kind_label(self) -> str:
        return registry.label(self.kind)

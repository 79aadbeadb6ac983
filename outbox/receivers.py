"""Provider tracking events (anymail's webhook): bounces reach the outbox, then the owning app."""

import logging

from anymail.signals import tracking
from django.conf import settings
from django.dispatch import receiver

from . import services

logger = logging.getLogger(__name__)

BOUNCE_EVENTS = {"bounced", "rejected", "complained"}


@receiver(tracking, dispatch_uid="outbox.email_tracking")
def record_bounce(sender, event, esp_name, **kwargs):
    # Without a secret anymail accepts (with a warning) posts from anyone, who
    # must not be able to flag addresses as bouncing.
    if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
        logger.warning("Ignored a %s tracking event: ANYMAIL_WEBHOOK_SECRET is not set.", esp_name)
        return
    if event.event_type in BOUNCE_EVENTS:
        services.record_bounce(
            provider_message_id=event.message_id or "",
            event_type=event.event_type,
            description=event.description or event.reject_reason or "",
        )

"""Reactions to what other apps announce: talk changes (events) and provider
tracking events (anymail). Each receiver only calls a service."""

import logging

from anymail.signals import tracking
from django.conf import settings
from django.dispatch import receiver

from events.signals import event_cancelled, event_rescheduled

from . import services

logger = logging.getLogger(__name__)

BOUNCE_EVENTS = {"bounced", "rejected", "complained"}


@receiver(event_rescheduled, dispatch_uid="registrations.event_rescheduled")
def send_updated_invites(sender, event, changed_fields, **kwargs):
    services.notify_event_changed(event=event)


@receiver(event_cancelled, dispatch_uid="registrations.event_cancelled")
def send_cancellations(sender, event, **kwargs):
    services.notify_event_cancelled(event=event)


@receiver(tracking, dispatch_uid="registrations.email_tracking")
def record_bounce(sender, event, esp_name, **kwargs):
    # Without a secret anymail accepts (with a warning) posts from anyone, who
    # must not be able to flag addresses as bouncing.
    if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
        logger.warning("Ignored a %s tracking event: ANYMAIL_WEBHOOK_SECRET is not set.", esp_name)
        return
    if event.event_type in BOUNCE_EVENTS:
        services.mark_email_bounced(
            provider_message_id=event.message_id or "",
            event_type=event.event_type,
            description=event.description or event.reject_reason or "",
        )

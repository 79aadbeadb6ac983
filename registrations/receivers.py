"""Reactions to what other apps announce: talk changes (events) and what
happened to a registrant's email (outbox). Each receiver only calls a service."""

import logging

from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver

from events.signals import event_cancelled, event_reinstated, event_rescheduled, stream_changed
from outbox.signals import mail_bounced, mail_failed

from . import replies, services
from .models import MailKind

logger = logging.getLogger(__name__)


@receiver(event_rescheduled, dispatch_uid="registrations.event_rescheduled")
def send_updated_invites(sender, event, changed_fields, previous_url="", **kwargs):
    # Nobody was asked (a venue renamed, a change made in code): the default rule.
    services.announce_talk_changes(event=event, changed_fields=changed_fields, link_changed=bool(previous_url))


@receiver(stream_changed, dispatch_uid="registrations.stream_changed")
def send_stream_link(sender, event, previous_url, **kwargs):
    services.send_stream_link(event=event, link_changed=bool(previous_url))


@receiver(event_cancelled, dispatch_uid="registrations.event_cancelled")
def send_cancellations(sender, event, **kwargs):
    services.notify_event_cancelled(event=event)


@receiver(event_reinstated, dispatch_uid="registrations.event_reinstated")
def send_on_again(sender, event, **kwargs):
    services.notify_event_reinstated(event=event)


def _ours(mail) -> bool:
    return mail.kind in MailKind.values


@receiver(mail_bounced, dispatch_uid="registrations.mail_bounced")
def flag_bounced_address(sender, mail, event_type, description, **kwargs):
    if _ours(mail):
        services.mark_email_bounced(mail=mail, event_type=event_type, description=description)


@receiver(mail_failed, dispatch_uid="registrations.mail_failed")
def log_failed_mail(sender, mail, **kwargs):
    if _ours(mail):
        services.log_email_failed(mail=mail)


@receiver(inbound, dispatch_uid="registrations.calendar_replies")
def act_on_calendar_replies(sender, event, esp_name, **kwargs):
    # As for bounces: without a secret anyone could post a "decline".
    if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
        logger.warning("Ignored inbound %s mail: ANYMAIL_WEBHOOK_SECRET is not set.", esp_name)
        return
    replies.handle_reply_message(event.message)

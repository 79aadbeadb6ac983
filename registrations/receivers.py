"""Reactions to what other apps announce: talk changes (events) and what
happened to a registrant's email (outbox). Each receiver only calls a service."""

from django.dispatch import receiver

from events.signals import event_cancelled, event_rescheduled
from outbox.signals import mail_bounced, mail_failed

from . import services
from .models import MailKind


@receiver(event_rescheduled, dispatch_uid="registrations.event_rescheduled")
def send_updated_invites(sender, event, changed_fields, **kwargs):
    services.notify_event_changed(event=event)


@receiver(event_cancelled, dispatch_uid="registrations.event_cancelled")
def send_cancellations(sender, event, **kwargs):
    services.notify_event_cancelled(event=event)


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

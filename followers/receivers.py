"""What the followers app hears from the talks and from the outbox."""

from django.dispatch import receiver

from events.models import Event
from events.signals import event_published
from outbox.models import OutgoingMail
from outbox.signals import mail_bounced

from . import services
from .models import Follower


@receiver(event_published, sender=Event, dispatch_uid="followers.announce")
def announce_new_talk(sender, event, **kwargs):
    # Sent inside the publishing transaction: the announcement commits with it.
    services.announce(event=event)


@receiver(mail_bounced, sender=OutgoingMail, dispatch_uid="followers.bounce")
def stop_after_bounce(sender, mail, event_type, **kwargs):
    """A follower's address that bounces, or whose owner marks our mail as spam, gets nothing more."""
    if not mail.kind.startswith("followers."):
        return
    follower = mail.about
    if isinstance(follower, Follower):
        because = Follower.Stop.COMPLAINED if event_type == "complained" else Follower.Stop.BOUNCED
        services.unsubscribe(follower=follower, because=because)

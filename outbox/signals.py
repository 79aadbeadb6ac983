"""What the outbox tells the apps whose messages it sends.

Each is sent inside the transaction that records the change, with
sender=OutgoingMail and `mail` (the row; `mail.about` is the owning app's
object). Receivers check `mail.kind` or `mail.about_type` to pick their own.
"""

from django.dispatch import Signal

# A message failed for good (refused, too many tries, or abandoned mid-send).
mail_failed = Signal()

# The provider reported that a sent message bounced, was rejected or marked as
# spam. Extra arguments: event_type ("bounced", "rejected", "complained") and description.
mail_bounced = Signal()

"""The outbox: what to send, to whom. Rows are written in the caller's transaction."""

from .models import OutgoingMail, Registration


def queue_mail(*, registration: Registration, kind: str) -> OutgoingMail:
    """Record one message to send to `registration`, in the current transaction.

    Call it inside the transaction that made the change the message is about:
    if that transaction rolls back, no message is left behind.
    """
    return OutgoingMail.objects.create(registration=registration, kind=kind)

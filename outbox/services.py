"""Every change to the outbox that is not sending itself (delivery.py does that)."""

from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, QuerySet, TextField, Value, When
from django.utils import timezone

from seminar_site.statements import PreparedInsert

from . import metrics, registry, signals
from .delivery import send_after_commit
from .models import OutgoingMail

Status = OutgoingMail.Status

# Every message queued writes one: compiled once (seminar_site/statements.py).
NEW_MAIL = PreparedInsert(OutgoingMail)


def queue_mail(
    *,
    kind: str,
    to: str,
    about: models.Model | None = None,
    once_key: str = "",
    data: dict | None = None,
) -> OutgoingMail | None:
    """Record one message of `kind` to address `to`, in the current transaction.

    Call it inside the transaction that made the change the message is about:
    if that transaction rolls back, no message is left behind. The message is
    sent by the task worker once that transaction commits (delivery.send_after_commit),
    and built by the kind's registered builder when it is sent.

    `about` is the object the message concerns (the builder reads it; the
    outbox only stores the pointer). With `once_key`, at most one message of
    this kind about this object ever carries that key (a database constraint):
    a second call returns None and queues nothing.

    Raises registry.UnknownKind for a kind no app registered, ValueError for a
    `once_key` without `about`.
    """
    mail = new_mail(kind=kind, to=to, about=about, once_key=once_key, data=data)
    if once_key:
        try:
            with transaction.atomic():
                NEW_MAIL.insert(mail)
        except IntegrityError:
            if not OutgoingMail.objects.about(about).filter(kind=kind, once_key=once_key).exists():
                raise
            return None
    else:
        NEW_MAIL.insert(mail)
    written(mail)
    return mail


def new_mail(
    *, kind: str, to: str, about: models.Model | None = None, once_key: str = "", data: dict | None = None
) -> OutgoingMail:
    """The message `queue_mail` would write, not written: for a caller that writes it with other rows.

    The caller writes it with `NEW_MAIL` (alone, or with the row it is about in
    a `PreparedInserts`), in the transaction of the change it reports, then
    calls `written`. Its `once_key` is written without the savepoint that lets
    `queue_mail` refuse a second one: only for a message about an object
    created in the same transaction, which no message can be about yet (a
    wrong claim fails the whole transaction with IntegrityError). Raises as
    `queue_mail` does.
    """
    registry.get_kind(kind)
    if once_key and about is None:
        raise ValueError("A once_key needs an object the message is about.")
    return OutgoingMail(kind=kind, recipient=to[:320], about=about, once_key=once_key, data=data or {})


def written(mail: OutgoingMail) -> None:
    """`mail` (from `new_mail`) was written in the current transaction: it is sent once that commits."""
    send_after_commit(mail.pk)


def send_again(*, mail: OutgoingMail) -> bool:
    """Send a failed (or skipped) message again, from the admin.

    The message is built afresh, and still-wanted rules apply again. Returns
    False, changing nothing, when the message is pending, being sent or
    already sent: only failed and skipped messages can be sent again.
    """
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(pk=mail.pk, status__in=[Status.FAILED, Status.SKIPPED]).update(
            status=Status.PENDING, next_attempt_at=None, sending_started_at=None
        )
        if updated:
            send_after_commit(mail.pk)
    return bool(updated)


def skip_pending(*, mails: QuerySet, reason: str) -> int:
    """Mark every still-pending message in `mails` skipped with `reason`; return how many.

    A message already being sent is not stopped (the owning app's
    still-wanted rule catches later retries and re-sends).
    """
    return mails.filter(status=Status.PENDING).update(
        status=Status.SKIPPED, last_error=str(reason), next_attempt_at=None
    )


def forget_recipients(*, mails: QuerySet, placeholder: str = "") -> int:
    """Erase personal data from `mails`: the address and provider texts that may quote it.

    For apps that erase a person on request or after a retention period.
    The rows stay, so counts and the sending history remain true.
    """
    return mails.update(
        recipient=placeholder,
        bounce_detail="",
        # Reasons for skipping are the apps' own words; failures quote providers.
        last_error=Case(When(status=Status.SKIPPED, then=F("last_error")), default=Value(""), output_field=TextField()),
    )


def record_bounce(*, provider_message_id: str, event_type: str, description: str = "") -> OutgoingMail | None:
    """Mark the message the provider knows as `provider_message_id` bounced, and tell its app.

    The first bounce is kept on the row; every report is passed on through
    signals.mail_bounced (in the same transaction). Returns the message, or
    None when no message of ours has that id.
    """
    if not provider_message_id:
        return None
    with transaction.atomic():
        mail = (
            OutgoingMail.objects.select_for_update()
            .filter(provider_message_id=provider_message_id)
            .order_by("-pk")
            .first()
        )
        if mail is None:
            return None
        if mail.bounced_at is None:
            mail.bounced_at = timezone.now()
            mail.bounce_type = event_type[:30]
            mail.bounce_detail = description[:2000]
            mail.save(update_fields=["bounced_at", "bounce_type", "bounce_detail"])
        signals.mail_bounced.send(sender=OutgoingMail, mail=mail, event_type=event_type, description=description)
    metrics.count_bounce(event_type)
    return mail

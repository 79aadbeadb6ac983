"""The outbox: what to send, to whom, and sending it at most once.

Rows are written in the caller's transaction by queue_mail(); a task enqueued
on commit delivers each one (registrations.tasks), and sweep_outbox() picks up
whatever a lost task or a worker restart left behind.

At most once, not at least once. A worker first claims a row: it locks it
(skipping rows another worker holds), moves it from pending to sending and
counts the attempt, and commits that before talking to the provider. Only a
pending row can be claimed, so two workers never both send it. If a worker dies
after the claim, nobody can know whether the provider accepted the message: a
row left in `sending` for longer than SENDING_TIMEOUT is marked failed (shown in
the admin, where "retry" sends it again) instead of being re-sent blindly. A
duplicate invite or reminder annoys every registrant; a missing one is visible
to the organizers, and registering again re-sends the confirmation.
"""

import datetime
import logging
import smtplib
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.core.mail import DEFAULT_MAILER_ALIAS
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .emails import build_message, invite_method
from .models import OutgoingMail, Registration, RegistrationLog

logger = logging.getLogger(__name__)

Kind = OutgoingMail.Kind
Status = OutgoingMail.Status

# A re-send of the confirmation asked for by registering again goes out at
# most once in this interval (counting the confirmation itself).
RESEND_INTERVAL = datetime.timedelta(minutes=10)
# A claimed row still `sending` after this long belongs to a dead worker.
SENDING_TIMEOUT = datetime.timedelta(minutes=10)
# A fresh pending row whose task has not run after this long lost its task.
PENDING_GRACE = datetime.timedelta(minutes=2)
# Transient failures are retried after 1, 2, 4, ... minutes, at most an hour
# apart; after MAX_ATTEMPTS tries (about four hours) the message fails.
FIRST_RETRY = datetime.timedelta(minutes=1)
MAX_RETRY = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 10
# Why a message to an erased registration is not sent (services.erase_personal_data).
ERASED_REASON = "The registrant's personal data was erased before this message went out."


def queue_mail(*, registration: Registration, kind: str, reminder_for=None) -> OutgoingMail | None:
    """Record one message to send to `registration`, in the current transaction.

    Call it inside the transaction that made the change the message is about:
    if that transaction rolls back, no message is left behind. The message is
    handed to the task worker once the transaction commits.

    Returns None when a RESEND is suppressed because the registrant was sent
    (or is about to be sent) their confirmation within RESEND_INTERVAL.
    """
    if kind == Kind.RESEND and _recently_confirmed(registration):
        return None
    mail = OutgoingMail.objects.create(registration=registration, kind=kind, reminder_for=reminder_for)
    transaction.on_commit(partial(enqueue_delivery, mail.pk), robust=True)
    return mail


def _recently_confirmed(registration: Registration) -> bool:
    return (
        OutgoingMail.objects.filter(
            registration=registration,
            kind__in=[Kind.CONFIRMATION, Kind.PROMOTED, Kind.RESEND],
            created_at__gt=timezone.now() - RESEND_INTERVAL,
        )
        .exclude(status__in=[Status.FAILED, Status.SKIPPED])
        .exists()
    )


def enqueue_delivery(mail_id: int, *, run_after: datetime.datetime | None = None) -> None:
    """Hand one outbox row to the task worker.

    A backend that cannot defer (the immediate one used in tests) gets nothing
    for a later time: the sweep enqueues the row once it is due.
    """
    from .tasks import deliver_mail  # tasks.py imports this module

    task = deliver_mail
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    task.enqueue(mail_id)


def retry_delay(attempts: int) -> datetime.timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def is_transient(error: BaseException) -> bool:
    """Would the same message likely go through later?"""
    if isinstance(error, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return False
    if isinstance(error, AnymailAPIError):
        # No status: the request never got an answer (timeout, connection).
        return error.status_code is None or error.status_code >= 500 or error.status_code in (408, 429)
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Timeouts, refused connections, dropped SMTP sessions, requests' network errors.
    return isinstance(error, OSError)


def _still_wanted(mail: OutgoingMail) -> str:
    """Why `mail` should no longer go out, or "" if it should."""
    registration = mail.registration
    event = registration.event
    if registration.erased_at is not None:
        # Its address is a placeholder now; this covers retries and "send again" too.
        return ERASED_REASON
    if mail.kind in (Kind.CANCELLATION, Kind.EVENT_CANCELLED):
        return ""
    if event.is_cancelled:
        return "The talk was cancelled before this message went out."
    if mail.kind == Kind.WAITLISTED:
        if registration.status != Registration.Status.WAITLISTED:
            return "The registrant left the waiting list before this message went out."
        return ""
    if mail.kind == Kind.RESEND:
        return "" if registration.is_active else "The registration was cancelled before this message went out."
    if registration.status != Registration.Status.CONFIRMED:
        return "The registration is no longer confirmed."
    if mail.kind == Kind.REMINDER and (mail.reminder_for != event.start or event.has_started()):
        return "The talk moved or has started since this reminder was queued."
    return ""


def _claim(mail_id: int):
    """Lock, check and build the message; commit it as `sending`. None if not ours to send."""
    with transaction.atomic():
        rows = OutgoingMail.objects.select_related("registration__event__series", "registration__event__venue").filter(
            pk=mail_id, status=Status.PENDING
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        mail = rows.first()
        if mail is None:
            return None
        now = timezone.now()
        pending = OutgoingMail.objects.filter(pk=mail.pk, status=Status.PENDING)
        reason = _still_wanted(mail)
        if reason:
            pending.update(status=Status.SKIPPED, last_error=reason, next_attempt_at=None)
            return None
        # The claim itself is a conditional update: where the database cannot
        # skip locked rows (SQLite), two workers may both have read the row as
        # pending, but only one of them changes it.
        if not pending.update(
            status=Status.SENDING, attempts=F("attempts") + 1, sending_started_at=now, next_attempt_at=None
        ):
            return None
        mail.status, mail.attempts, mail.sending_started_at = Status.SENDING, mail.attempts + 1, now
        registration = mail.registration
        sequence = None
        if invite_method(kind=mail.kind, registration=registration) is not None:
            # The UPDATE locks the registration until commit, so concurrent
            # invites for one registrant get distinct, rising numbers and the
            # higher number always describes the later state of the talk.
            Registration.objects.filter(pk=registration.pk).update(invite_sequence=F("invite_sequence") + 1)
            registration.refresh_from_db(fields=["invite_sequence"])
            sequence = registration.invite_sequence
        message = build_message(mail=mail, sequence=sequence)
    return mail, message


def deliver(*, mail_id: int) -> str:
    """Send outbox row `mail_id` if it is still pending; return its status afterwards.

    Safe to call any number of times, from any number of workers: only the one
    that claims the row sends it.
    """
    try:
        claimed = _claim(mail_id)
    except Exception as error:
        # A bug in building the message will not fix itself by retrying.
        logger.exception("Could not build outgoing mail %s", mail_id)
        _fail(mail_id, f"Could not build the message: {error!r}", from_status=Status.PENDING)
        return Status.FAILED
    if claimed is None:
        return OutgoingMail.objects.filter(pk=mail_id).values_list("status", flat=True).first() or ""
    mail, message = claimed
    try:
        message.send(using=DEFAULT_MAILER_ALIAS)
    except Exception as error:
        return _record_failure(mail, error)
    status = getattr(message, "anymail_status", None)
    # Webhooks name the message by the provider's id; without a provider (the
    # development .eml backend) our own Message-ID stands in.
    provider_id = getattr(status, "message_id", None)
    if provider_id is None:
        provider_id = message.extra_headers.get("Message-ID", "")
    OutgoingMail.objects.filter(pk=mail.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), provider_message_id=str(provider_id)[:255], last_error=""
    )
    return Status.SENT


def _record_failure(mail: OutgoingMail, error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"[:2000]
    if is_transient(error) and mail.attempts < MAX_ATTEMPTS:
        next_attempt = timezone.now() + retry_delay(mail.attempts)
        OutgoingMail.objects.filter(pk=mail.pk, status=Status.SENDING).update(
            status=Status.PENDING, last_error=text, next_attempt_at=next_attempt
        )
        logger.warning("Outgoing mail %s failed (attempt %s), retrying: %s", mail.pk, mail.attempts, text)
        enqueue_delivery(mail.pk, run_after=next_attempt)
        return Status.PENDING
    logger.error("Outgoing mail %s failed for good: %s", mail.pk, text)
    _fail(mail.pk, text, from_status=Status.SENDING)
    return Status.FAILED


def _fail(mail_id: int, text: str, *, from_status: str) -> None:
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(pk=mail_id, status=from_status).update(
            status=Status.FAILED, last_error=text, next_attempt_at=None
        )
        if updated:
            mail = OutgoingMail.objects.select_related("registration").get(pk=mail_id)
            RegistrationLog.objects.create(
                registration=mail.registration,
                action=RegistrationLog.Action.EMAIL_FAILED,
                from_status=mail.registration.status,
                to_status=mail.registration.status,
                note=f"{mail.get_kind_display()}: {text}"[:500],
            )


def sweep_outbox(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Give up on rows a dead worker left `sending`; enqueue pending rows that are due.

    Run it every minute or so (`manage.py send_queued_mail --every 60`).
    """
    now = now or timezone.now()
    abandoned = list(
        OutgoingMail.objects.filter(status=Status.SENDING, sending_started_at__lt=now - SENDING_TIMEOUT).values_list(
            "pk", flat=True
        )
    )
    for mail_id in abandoned:
        _fail(
            mail_id,
            "The worker stopped while sending; the message may or may not have gone out. Use “Send again” to retry it.",
            from_status=Status.SENDING,
        )
    due = list(OutgoingMail.objects.due(now, grace=PENDING_GRACE).values_list("pk", flat=True))
    for mail_id in due:
        enqueue_delivery(mail_id)
    return {"abandoned": len(abandoned), "enqueued": len(due)}

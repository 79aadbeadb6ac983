"""Sending what the outbox holds, at most once.

Rows are written in the caller's transaction by services.queue_mail(); its
commit wakes the sender (send_after_commit): a task that sends every message
that is due (tasks.deliver_due_mail). A message costs its row and no task of
its own: each process writes at most one wake-up task per WAKE_INTERVAL, and
one more for the end of it when messages come meanwhile, so a rush of sign-ups
writes two tasks a second, not one per sign-up. sweep() picks up whatever a
lost wake-up (a process killed between its commit and the task) or a worker
restart left behind.

At most once, not at least once. A worker first claims a row: it locks it
(skipping rows another worker holds), moves it from pending to sending and
counts the attempt, and commits that before talking to the provider. Only a
pending row can be claimed, so two workers never both send it. If a worker dies
after the claim, nobody can know whether the provider accepted the message: a
row left in `sending` for longer than SENDING_TIMEOUT is marked failed (shown in
the admin, where "Send again" sends it again) instead of being re-sent blindly.
A duplicate invite or reminder annoys every recipient; a missing one is visible
to the organizers.

The message itself is built by the app that registered its kind (registry.py),
inside the claiming transaction, when it is sent: a retried or late message
shows things as they are then.
"""

import datetime
import logging
import smtplib
import threading
import time
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.core.mail import DEFAULT_MAILER_ALIAS, mailers
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import registry, signals
from .compose import message_id
from .models import OutgoingMail

logger = logging.getLogger(__name__)

Status = OutgoingMail.Status

# A claimed row still `sending` after this long belongs to a dead worker.
SENDING_TIMEOUT = datetime.timedelta(minutes=10)
# A fresh pending row not sent after this long lost its wake-up.
PENDING_GRACE = datetime.timedelta(minutes=2)
# A process wakes the sender at most once in this many seconds, and once more at the end of them.
WAKE_INTERVAL = 1.0
# One wake-up sends for at most this long, then leaves the rest to a wake-up of its own: other tasks
# (an announcement's fan-out) wait behind it meanwhile.
DRAIN_SECONDS = 30.0
# Transient failures are retried after 1, 2, 4, ... minutes, at most an hour
# apart; after MAX_ATTEMPTS tries (about four hours) the message fails.
FIRST_RETRY = datetime.timedelta(minutes=1)
MAX_RETRY = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 10
ABANDONED_TEXT = (
    "The worker stopped while sending; the message may or may not have gone out. Use “Send again” to retry it."
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


class _Waker:
    """Wakes the sender when messages were committed: at most one task per WAKE_INTERVAL, and one for its end.

    Each process keeps its own; `clock` is monotonic seconds.
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.quiet_until = float("-inf")
        self.deferred = False

    def wake(self) -> None:
        from .tasks import deliver_due_mail  # tasks.py imports this module

        now = self.clock()
        with self.lock:
            if now >= self.quiet_until:
                self.quiet_until, self.deferred, delay = now + WAKE_INTERVAL, False, None
            elif self.deferred:
                # The wake-up for the end of the interval comes after this commit: it sends this message too.
                return
            else:
                self.deferred, delay = True, self.quiet_until - now
        if delay is None:
            deliver_due_mail.enqueue()
        else:
            deliver_due_mail.using(run_after=timezone.now() + datetime.timedelta(seconds=delay)).enqueue()


_waker = _Waker()


def send_after_commit(mail_id: int) -> None:
    """Have the worker send what is due, `mail_id` among it, once the current transaction commits.

    Whatever the transaction queued is sent by a wake-up task that runs after
    its commit: a new one, or the one this process has already written for
    the end of the current WAKE_INTERVAL. The worker can only claim a
    committed, pending row: at most once as ever. A rolled-back transaction
    wakes nobody; a wake-up lost to a process killed right after its commit is
    made up by the sweep (PENDING_GRACE).

    A backend that cannot defer runs tasks at once (the tests' immediate one):
    there each message is sent by itself when its transaction commits.
    """
    from .tasks import deliver_due_mail  # tasks.py imports this module

    if not deliver_due_mail.get_backend().supports_defer:
        transaction.on_commit(partial(enqueue_delivery, mail_id), robust=True)
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Once per transaction (an announcement queues hundreds), unless the wake-up already asked for
        # could be rolled back without this message (it was asked in a savepoint this one is not in).
        active = set(connection.savepoint_ids)
        for savepoints, func, _robust in connection.run_on_commit:
            if isinstance(func, _WakeAfterCommit) and not func.done and set(savepoints) <= active:
                return
    transaction.on_commit(_WakeAfterCommit(), robust=True)


class _WakeAfterCommit:
    """One transaction's wake-up of the sender, run by its commit."""

    def __init__(self):
        self.done = False

    def __call__(self):
        self.done = True
        _waker.wake()


def deliver_due(*, seconds: float = DRAIN_SECONDS) -> int:
    """Send every message that is due, oldest first; return how many this call found to send.

    Runs for at most `seconds`, then hands what is left to a new wake-up. Safe
    to run in any number of workers at once: each message is sent by the one
    that claims it (the others skip it).
    """
    started, after, found = time.monotonic(), 0, 0
    while True:
        due = OutgoingMail.objects.due(timezone.now()).filter(pk__gt=after).order_by("pk")
        batch = list(due.values_list("pk", flat=True)[:100])
        if not batch:
            return found
        for mail_id in batch:
            if time.monotonic() - started >= seconds:
                # Not through the waker: its wake-up for the end of the interval may be this very task.
                from .tasks import deliver_due_mail  # tasks.py imports this module

                deliver_due_mail.enqueue()
                return found
            deliver(mail_id=mail_id)
            found, after = found + 1, mail_id


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


def _claim(mail_id: int):
    """Lock, check and build the message; commit it as `sending`. None if not ours to send."""
    with transaction.atomic():
        rows = OutgoingMail.objects.filter(pk=mail_id, status=Status.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        mail = rows.first()
        if mail is None:
            return None
        kind = registry.get_kind(mail.kind)
        now = timezone.now()
        pending = OutgoingMail.objects.filter(pk=mail.pk, status=Status.PENDING)
        reason = kind.still_wanted(mail) if kind.still_wanted else ""
        if reason:
            pending.update(status=Status.SKIPPED, last_error=str(reason), next_attempt_at=None)
            return None
        # The claim itself is a conditional update: where the database cannot
        # skip locked rows (SQLite), two workers may both have read the row as
        # pending, but only one of them changes it.
        if not pending.update(
            status=Status.SENDING, attempts=F("attempts") + 1, sending_started_at=now, next_attempt_at=None
        ):
            return None
        mail.status, mail.attempts, mail.sending_started_at = Status.SENDING, mail.attempts + 1, now
        message = kind.build(mail)
        message.extra_headers.setdefault("Message-ID", message_id(f"outbox{mail.pk}"))
        recipient = ", ".join(message.to)[:320]
        if recipient != mail.recipient:
            OutgoingMail.objects.filter(pk=mail.pk).update(recipient=recipient)
            mail.recipient = recipient
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
    mailer = mailers[DEFAULT_MAILER_ALIAS]
    try:
        if hasattr(message, "fit_to_mailer"):
            message.fit_to_mailer(mailer)
        mailer.send_messages([message])
    except Exception as error:
        return _record_failure(mail, error)
    status = getattr(message, "anymail_status", None)
    # Webhooks name the message by the provider's id; without a provider (the
    # development .eml backend, SMTP) our own Message-ID stands in.
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
            # In the same transaction: the owning app's record of the failure
            # (a history entry, say) exists exactly when the failure does.
            signals.mail_failed.send(sender=OutgoingMail, mail=OutgoingMail.objects.get(pk=mail_id))


def sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
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
        _fail(mail_id, ABANDONED_TEXT, from_status=Status.SENDING)
    due = list(OutgoingMail.objects.due(now, grace=PENDING_GRACE).values_list("pk", flat=True))
    for mail_id in due:
        enqueue_delivery(mail_id)
    return {"abandoned": len(abandoned), "enqueued": len(due)}

"""Background work for the task worker (`manage.py db_worker`)."""

from django.tasks import task

from . import delivery


@task
def deliver_mail(mail_id: int) -> str:
    """Send one outbox row; a no-op if another worker already has it."""
    return delivery.deliver(mail_id=mail_id)


@task
def deliver_due_mail() -> int:
    """Send every message that is due: the wake-up a commit that queued mail writes (delivery.send_after_commit)."""
    return delivery.deliver_due()

"""Background work for the task worker (`manage.py db_worker`)."""

from django.tasks import task

from . import outbox


@task
def deliver_mail(mail_id: int) -> str:
    """Send one outbox row; a no-op if another worker already has it."""
    return outbox.deliver(mail_id=mail_id)

"""Background work for the task worker (`manage.py db_worker`)."""

from django.tasks import task

from . import delivery


@task
def deliver_mail(mail_id: int) -> str:
    """Send one outbox row; a no-op if another worker already has it."""
    return delivery.deliver(mail_id=mail_id)

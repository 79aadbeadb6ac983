import time

from django.core.management.base import BaseCommand

from registrations import services
from registrations.outbox import sweep_outbox


class Command(BaseCommand):
    help = (
        "Queue due reminders, give up on messages a dead worker left half-sent, and hand due "
        "messages to the task worker. Run it every minute (cron), or with --every 60 as a process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS", help="Repeat forever at this interval.")

    def handle(self, *args, every=0, **options):
        while True:
            reminders = services.queue_due_reminders()
            result = sweep_outbox()
            if reminders or any(result.values()) or not every:
                self.stdout.write(
                    f"{reminders} reminders queued, {result['enqueued']} messages handed to the worker, "
                    f"{result['abandoned']} half-sent messages marked failed."
                )
            if not every:
                return
            time.sleep(every)

import time

from django.core.management.base import BaseCommand

from outbox import registry
from outbox.delivery import sweep


class Command(BaseCommand):
    help = (
        "Queue the mail that has come due (reminders, digests) and do the apps' other due work (release "
        "seats held past their deadline), give up on messages a dead worker left "
        "half-sent, and hand due messages to the task worker. Run it every minute (cron), or with "
        "--every 60 as a process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS", help="Repeat forever at this interval.")

    def handle(self, *args, every=0, **options):
        while True:
            queued = [(due, due.queue()) for due in registry.due_mail()]
            result = sweep()
            if any(count for _, count in queued) or any(result.values()) or not every:
                parts = [f"{count} {due.label} {due.done}" for due, count in queued]
                parts.append(f"{result['enqueued']} messages handed to the worker")
                parts.append(f"{result['abandoned']} half-sent messages marked failed")
                self.stdout.write(", ".join(parts) + ".")
            if not every:
                return
            time.sleep(every)

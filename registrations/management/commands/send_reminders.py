from django.core.management.base import BaseCommand

from registrations import services


class Command(BaseCommand):
    help = "Queue the reminder email for talks whose reminder time (REMINDER_BEFORE) has come."

    def handle(self, *args, **options):
        queued = services.queue_due_reminders()
        self.stdout.write(f"{queued} reminders queued.")

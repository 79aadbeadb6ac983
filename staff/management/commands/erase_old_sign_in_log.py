import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from staff import audit
from staff.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Delete the entries of the sign-in and team log older than --days days (default: the "
        "SIGN_IN_LOG_RETENTION_DAYS setting). Run it daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep entries this many days.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is None:
            days = settings.SIGN_IN_LOG_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be zero or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        if dry_run:
            count = AuditEntry.objects.written_before(cutoff).count()
            self.stdout.write(f"{count} sign-in and team log entries older than {days} days would be deleted.")
            return
        erased = audit.erase_entries_before(cutoff=cutoff)
        self.stdout.write(f"Deleted {erased} sign-in and team log entries older than {days} days.")

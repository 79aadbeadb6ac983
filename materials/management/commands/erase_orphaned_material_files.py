import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from materials import services


class Command(BaseCommand):
    help = (
        "Delete stored material files that no material refers to (left by an upload whose save was rolled "
        "back) and that are older than --hours hours (default 24: an upload in flight is never touched). "
        "Run it daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24, help="Leave files younger than this many hours.")
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be deleted.")

    def handle(self, *args, hours=24, dry_run=False, **options):
        if hours < 1:
            raise CommandError("--hours must be 1 or more: a younger file may belong to an upload in flight.")
        before = timezone.now() - datetime.timedelta(hours=hours)
        orphans = services.erase_orphaned_files(before=before, dry_run=dry_run)
        for name in orphans:
            self.stdout.write(f"  {name}")
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(f"{len(orphans)} material files no material refers to, older than {hours} hours, {verb}.")

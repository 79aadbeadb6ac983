import datetime
from itertools import batched

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from registrations import services
from registrations.models import Registration

# One transaction per batch: a long run never holds many rows locked at once.
BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Erase the name, email and affiliation of everyone registered for talks that ended more than "
        "--days days ago (default: the REGISTRATION_RETENTION_DAYS setting). Run it daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep personal data this many days after a talk.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be erased.")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is None:
            days = settings.REGISTRATION_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be zero or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        due = Registration.objects.filter(event__end__lte=cutoff, erased_at__isnull=True).order_by("pk")
        if dry_run:
            self.stdout.write(
                f"{due.count()} registrations of talks that ended more than {days} days ago would be erased."
            )
            return
        erased = 0
        for pks in batched(list(due.values_list("pk", flat=True)), BATCH_SIZE):
            erased += services.erase_personal_data(
                registrations=Registration.objects.filter(pk__in=pks),
                note=f"Kept {days} days after the talk.",
            )
        self.stdout.write(
            f"Erased the personal data of {erased} registrations of talks that ended more than {days} days ago."
        )

import datetime
from itertools import batched

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from followers import services
from followers.models import Follower

# One transaction per batch: a long run never holds many rows locked at once.
BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Erase the addresses of followers who stopped following more than --days days ago (default: the "
        "FOLLOWER_RETENTION_DAYS setting), and of those who never confirmed before their link expired. "
        "Run it daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep addresses this many days after stopping.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be erased.")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is None:
            days = settings.FOLLOWER_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be zero or more.")
        now = timezone.now()
        stopped_before = now - datetime.timedelta(days=days)
        never_confirmed_before = now - services.confirm_link_max_age()
        due = Follower.objects.filter(erased_at__isnull=True).filter(
            Q(unsubscribed_at__lte=stopped_before)
            | Q(
                confirmed_at__isnull=True,
                unsubscribed_at__isnull=True,
                confirmation_sent_at__lte=never_confirmed_before,
            )
        )
        if dry_run:
            self.stdout.write(f"{due.count()} follower addresses would be erased.")
            return
        erased = 0
        for pks in batched(list(due.order_by("pk").values_list("pk", flat=True)), BATCH_SIZE):
            erased += services.erase_personal_data(followers=Follower.objects.filter(pk__in=pks))
        self.stdout.write(
            f"Erased {erased} follower addresses (stopped more than {days} days ago, or never confirmed)."
        )

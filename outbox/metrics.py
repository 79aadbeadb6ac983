"""What the outbox tells Prometheus: mail waiting, failed and bounced (see monitoring/registry.py)."""

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from .models import OutgoingMail

Status = OutgoingMail.Status
UNSENT = (Status.PENDING, Status.SENDING)

# Counted on the web host whose webhook received the provider's report.
BOUNCED = Counter(
    "seminar_mail_bounced_total",
    "Reports from the mail provider that a sent message bounced, was rejected or marked as spam, by kind.",
    ["event_type"],
)
BOUNCE_TYPES = {"bounced", "rejected", "complained"}


def count_bounce(event_type: str) -> None:
    BOUNCED.labels(event_type if event_type in BOUNCE_TYPES else "other").inc()


def collect():
    """Unsent messages and the age of the oldest, and messages failed for good (one query on the status index)."""
    figures = OutgoingMail.objects.filter(status__in=[*UNSENT, Status.FAILED]).aggregate(
        unsent=Count("pk", filter=Q(status__in=UNSENT)),
        oldest=Min("created_at", filter=Q(status__in=UNSENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
    )
    oldest = figures["oldest"]
    yield GaugeMetricFamily(
        "seminar_outbox_unsent_messages",
        "Emails queued and not sent yet (waiting, being sent, or waiting to be retried).",
        value=figures["unsent"],
    )
    yield GaugeMetricFamily(
        "seminar_outbox_oldest_unsent_age_seconds",
        "How long the oldest email not sent yet has been queued; 0 when none waits.",
        value=max((timezone.now() - oldest).total_seconds(), 0) if oldest else 0,
    )
    yield GaugeMetricFamily(
        "seminar_outbox_failed_messages",
        "Emails that failed for good and were not sent again (Outgoing emails in the admin, status failed).",
        value=figures["failed"],
    )

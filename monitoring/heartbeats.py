"""Heartbeats: the background processes that serve no HTTP say when they last did their work.

A process calls `beat(process=...)` after each round (the sweeper, after
each sweep: `outbox`'s send_queued_mail); every scrape of a web host
reports how long ago that was, as seminar_heartbeat_age_seconds. A process
that stopped, hangs or cannot reach the database shows as an age that keeps
growing; one that never ran shows no series at all (docs/deploy.md has the
alerts for both).
"""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Heartbeat


def beat(*, process: str, now=None) -> None:
    """Record that `process` finished a round of its work now (one upsert).

    Raises what the database raises: a process that cannot record its
    heartbeat could not do its work either.
    """
    Heartbeat.objects.bulk_create(
        [Heartbeat(process=process, seen_at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["process"],
        update_fields=["seen_at"],
    )


def collect():
    """Seconds since each process's last heartbeat (one query)."""
    now = timezone.now()
    gauge = GaugeMetricFamily(
        "seminar_heartbeat_age_seconds",
        "Seconds since a background process last finished a round of its work (the sweeper: a sweep).",
        labels=["process"],
    )
    for process, seen_at in Heartbeat.objects.order_by("process").values_list("process", "seen_at"):
        gauge.add_metric([process], max((now - seen_at).total_seconds(), 0))
    yield gauge

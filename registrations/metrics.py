"""What registrations tell Prometheus (see monitoring/registry.py)."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Registration


def collect():
    """Registrations for talks not over yet, by status: every status, 0 when none has it (one query)."""
    counts = dict(
        Registration.objects.filter(event__end__gt=timezone.now())
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    gauge = GaugeMetricFamily(
        "seminar_registrations", "Registrations for talks that are not over yet, by status.", labels=["status"]
    )
    for status in Registration.Status:
        gauge.add_metric([status.value], counts.get(status.value, 0))
    yield gauge

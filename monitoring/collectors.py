"""The figures no app owns: the background task queue (sending mail, announcing to followers)."""

from django.db.models import Case, Count, F, Min, When
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.core import GaugeMetricFamily


def collect_task_queue():
    """Tasks due and not started, and how long the oldest has waited, per queue (one query).

    Lag is the time a due task has waited for a worker: 0 with workers keeping
    up; growing when every worker is down or busy.
    """
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if not isinstance(backend, DatabaseBackend):
        return []
    now = timezone.now()
    # A task without a time of its own is stored with the latest possible one and is due since it was queued.
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    rows = (
        DBTaskResult.objects.ready()
        .filter(backend_name=backend.alias)
        .order_by()
        .values("queue_name")
        .annotate(count=Count("pk"), since=Min(due_since))
    )
    found = {row["queue_name"]: row for row in rows}
    ready = GaugeMetricFamily(
        "seminar_task_queue_ready_tasks", "Background tasks due and not started yet, by queue.", labels=["queue"]
    )
    lag = GaugeMetricFamily(
        "seminar_task_queue_lag_seconds",
        "How long the oldest task due has waited for a worker, by queue; 0 when none waits.",
        labels=["queue"],
    )
    for queue in sorted(set(backend.queues) | set(found)):
        row = found.get(queue, {"count": 0, "since": None})
        ready.add_metric([queue], row["count"])
        lag.add_metric([queue], max((now - row["since"]).total_seconds(), 0) if row["since"] else 0)
    return [ready, lag]

"""Figures the apps contribute to the metrics, computed when Prometheus scrapes.

The monitoring app knows no domain app. An app whose state is worth watching
registers a collector in its AppConfig.ready():

    from monitoring import registry

    registry.register_collector(metrics.collect, name="outbox")

`collect()` returns or yields prometheus_client metric families (usually
GaugeMetricFamily) named `seminar_...`, from a few aggregate queries: it runs
on every scrape (every 15 to 60 seconds, from every Prometheus), so an indexed
count, never a query per row. A collector that fails is left out of that
scrape and logged; the others still answer. While the database does not
answer, no collector runs (the scrape says `seminar_database_up 0`).

Events are not collected: they are counted where they happen, with a
prometheus_client Counter in the module that sees them (a refused request in
seminar_site/limits.py, a bounce in outbox/services.py). Under gunicorn every
worker writes its counts to the metrics directory and a scrape adds them up
(monitoring/gunicorn.py).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric


@dataclass(frozen=True)
class Collector:
    name: str
    collect: Callable[[], Iterable[Metric]]


_collectors: dict[str, Collector] = {}


def register_collector(collect: Callable[[], Iterable[Metric]], *, name: str) -> None:
    """Register (or replace) the collector called `name`."""
    _collectors[name] = Collector(name=name, collect=collect)


def unregister_collector(name: str) -> None:
    _collectors.pop(name, None)


def collectors() -> list[Collector]:
    return list(_collectors.values())

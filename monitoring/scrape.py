"""What a scrape of /metrics answers: the counts of every worker, then the figures the apps contribute.

Counts (requests, page-cache look-ups, refusals...) come from prometheus_client:
under gunicorn from the metrics directory every worker writes to (summed over
the workers of this host, see monitoring/gunicorn.py), elsewhere from this
process. Then `seminar_database_up`, and, if the database answers, each
collector in the registry. Every host answers for its own workers; the
database figures are the same on every host (take `max` over instances).
"""

import logging
import os

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from seminar_site import outage
from seminar_site.health import database_answers

from . import registry

logger = logging.getLogger(__name__)


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The scrape's body in the format `accept` asks for (Prometheus text by default), and its content type."""
    encode, content_type = choose_encoder(accept)
    return encode(_Scrape()), content_type


class _Scrape:
    """What prometheus_client's encoders need of a registry: collect()."""

    def collect(self):
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        yield from (MultiProcessCollector(None, path=directory) if directory else REGISTRY).collect()
        up = database_answers()
        yield GaugeMetricFamily(
            "seminar_database_up", "1 when the database answers (the check /healthz makes), else 0.", value=int(up)
        )
        if up:
            for collector in registry.collectors():
                yield from _collected(collector)


def _collected(collector: registry.Collector) -> list:
    try:
        return list(collector.collect())
    except Exception as error:
        if outage.database_unavailable(error):
            outage.noticed(error)
        else:
            logger.exception("The %s metrics could not be collected; the scrape goes on without them", collector.name)
        return []

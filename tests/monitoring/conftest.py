import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token-0123456789abcdefghijklmnop"


class Metrics:
    """One scrape, parsed by prometheus_client's own parser: `value(name, **labels)`, 0 when absent."""

    def __init__(self, text: str):
        self.text = text
        self.samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0)

    def labels(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for sample, labels in self.samples if sample == name}


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


@pytest.fixture
def scrape(client, metrics_token):
    """Scrape /metrics as Prometheus does (the bearer token); the counters of this process since it started."""

    def scrape() -> Metrics:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
        assert response.status_code == 200, response.content[:2000]
        return Metrics(response.content.decode())

    return scrape

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    # Load balancers probe by address and over plain HTTP: neither host checks nor the redirect apply.
    response = client.get("/healthz", HTTP_HOST="10.0.0.5")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response.cookies == {}
    assert "Set-Cookie" not in response
    assert response["Cache-Control"] == "no-store"


def test_healthz_is_never_rate_limited(client, settings):
    settings.REGISTRATION_RATE_LIMIT = settings.EMAIL_RATE_LIMIT = "1/h"
    assert {client.get("/healthz").status_code for _ in range(30)} == {200}


def test_healthz_with_the_database_away_logs_the_outage_once_not_every_probe(client, database_away, caplog):
    # A load balancer probes every few seconds through the whole outage.
    statuses = [client.get("/healthz").status_code for _ in range(5)]

    assert statuses == [503] * 5
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == ["The database cannot be reached"]

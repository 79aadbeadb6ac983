"""Who may read /metrics: the bearer token, the networks, both, or nobody."""

import pytest
from django.core import checks

from .conftest import TOKEN, Metrics

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_refused_like_an_unknown_page(client, response):
    """Refused is not a status of its own: the answer any path that does not exist gets."""
    unknown = client.get("/no-such-page/")
    assert response.status_code == unknown.status_code == 404
    assert b"seminar_" not in response.content
    assert response.content.replace(b"/metrics", b"/no-such-page/") == unknown.content


def test_metrics_are_off_until_a_token_or_networks_are_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []

    assert_refused_like_an_unknown_page(client, client.get("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert_refused_like_an_unknown_page(client, client.get("/metrics", **bearer("")))


def test_the_token_opens_the_metrics(client, metrics_token):
    response = client.get("/metrics", **bearer(metrics_token))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE seminar_http_requests_total counter" in response.content
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("wrong"),
        bearer(TOKEN[:-1]),
        bearer(TOKEN + "x"),
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": TOKEN},
    ],
    ids=["none", "wrong", "shorter", "longer", "basic", "no-scheme"],
)
def test_without_the_right_token_the_metrics_do_not_exist(client, metrics_token, headers):
    assert_refused_like_an_unknown_page(client, client.get("/metrics", **headers))


def test_the_networks_open_the_metrics_to_their_addresses_only(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]

    for address in ("10.1.2.3", "192.0.2.7", "2001:db8::5", "::ffff:10.9.9.9"):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200, address
    for address in ("192.0.2.8", "203.0.113.5", "2001:db9::5", "127.0.0.1"):
        assert_refused_like_an_unknown_page(client, client.get("/metrics", REMOTE_ADDR=address))


def test_behind_the_proxy_the_address_it_saw_counts_and_a_forged_one_does_not(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    # The proxy appends the address it saw: a client from another network is refused,
    # whatever it wrote into the header itself.
    outside = client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.5", **proxy)
    assert_refused_like_an_unknown_page(client, outside)
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.1.1", **proxy).status_code == 200


def test_with_both_set_a_scrape_needs_both(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.0.0.9", **bearer(TOKEN)).status_code == 200
    assert_refused_like_an_unknown_page(client, client.get("/metrics", REMOTE_ADDR="10.0.0.9"))
    assert_refused_like_an_unknown_page(client, client.get("/metrics", REMOTE_ADDR="203.0.113.5", **bearer(TOKEN)))


def test_prometheus_scrapes_a_host_by_address_over_plain_http(client, settings, metrics_token):
    settings.SECURE_SSL_REDIRECT = True

    # Not in ALLOWED_HOSTS, not HTTPS: neither the host check nor the redirect apply to a scrape...
    response = client.get("/metrics", HTTP_HOST="10.0.0.11:8000", **bearer(metrics_token))
    assert response.status_code == 200
    # ...while a refused one is redirected like any other page.
    assert client.get("/metrics", HTTP_HOST="testserver").status_code == 301


def test_a_scrape_is_not_counted_nor_logged(client, metrics_token, caplog):
    from seminar_site.logs import NO_ACCESS_LOG

    def requests_counted(response):
        metrics = Metrics(response.content.decode())
        return sum(value for (name, _), value in metrics.samples.items() if name == "seminar_http_requests_total")

    first = client.get("/metrics", **bearer(metrics_token))
    again = client.get("/metrics", **bearer(metrics_token))

    assert requests_counted(again) == requests_counted(first)
    # gunicorn's access log (seminar_site.logs.AccessLogger) skips requests marked so.
    assert first.wsgi_request.META[NO_ACCESS_LOG] is True
    assert not caplog.records


def test_malformed_networks_refuse_every_scrape(client, settings, caplog):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "not-a-network"]

    assert_refused_like_an_unknown_page(client, client.get("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert "METRICS_ALLOWED_NETWORKS" in caplog.text


def test_malformed_networks_stop_the_site_at_its_checks(settings):
    from monitoring.checks import check_metrics_networks

    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0.300"]

    [error] = check_metrics_networks(None)
    assert error.id == "monitoring.E001"
    assert "10.0.0.300" in error.msg


def test_a_short_token_is_a_deploy_warning(settings):
    from monitoring.checks import check_metrics_token

    settings.METRICS_TOKEN = "secret"
    [warning] = check_metrics_token(None)
    assert warning.id == "monitoring.W001"
    assert warning.level == checks.WARNING

    settings.METRICS_TOKEN = TOKEN
    assert check_metrics_token(None) == []

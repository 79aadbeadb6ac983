"""Who may read the metrics: a bearer token, a list of networks, or both (settings).

With neither set the metrics are off. A request that fails any check that is
set is not refused with a status of its own: it goes on through the site as
if /metrics did not exist (a 404 page, or the HTTPS redirect first), so nobody
learns from outside that the address serves anything.
"""

import functools
import hmac
import ipaddress
import logging

from django.conf import settings

from seminar_site.limits import client_ip

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def parse_networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    """("10.0.0.0/8", "192.0.2.7") → networks; ValueError for anything that is not one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def may_scrape(request) -> bool:
    token = settings.METRICS_TOKEN
    try:
        networks = parse_networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    except ValueError as error:
        # gunicorn runs no system checks (manage.py check reports it as monitoring.E001).
        logger.error("METRICS_ALLOWED_NETWORKS: %s; refusing every scrape", error)
        return False
    if not token and not networks:
        return False
    if token and not _has_token(request, token):
        return False
    return not networks or _comes_from(request, networks)


def _has_token(request, token: str) -> bool:
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode())


def _comes_from(request, networks: tuple[Network, ...]) -> bool:
    # Behind the proxies TRUSTED_PROXY_COUNT names, the address they saw; else the peer's.
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        # A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        address = address.ipv4_mapped
    return any(address in network for network in networks)

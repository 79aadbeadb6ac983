"""Rate limits for views: who may post how often, counted in the shared cache.

Counting is django-ratelimit's (fixed windows in the "default" cache, which
every worker and host shares, under its hashed keys), in one round trip where
the cache can (`count` of seminar_site/cache.py: one statement in the
database cache); this module adds what the site needs around it:
rates read from settings at request time ("10/h", "5/15m" or "off"), the
client address behind a known number of proxies, networks exempt from the
per-address limits (RATE_LIMIT_EXEMPT_NETWORKS), and a friendly 429 page with
Retry-After. A limited request never reaches the view, so nothing is written
and no email is queued.

The per-address limit on registering is a backstop against floods: who keeps
a seat is decided by proof of the address typed (registrations' holds), for
which `count_sign_up` counts each address's sign-ups per talk the same way,
without refusing any.

    from seminar_site.limits import by_ip, email_rate_limit, rate_limit

    @rate_limit("comment", rate="COMMENT_RATE_LIMIT", key=by_ip)   # any limit
    @email_rate_limit("follow")   # views that email an address typed into the form
    def follow(request, slug): ...
"""

import datetime
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key
from prometheus_client import Counter

from . import outage

logger = logging.getLogger(__name__)

_REFUSALS = Counter(
    "seminar_rate_limit_refusals_total", "Requests refused with 429 by a rate limit, by limit (its group).", ["limit"]
)

RATE_SETTINGS = (
    "REGISTRATION_RATE_LIMIT",
    "EMAIL_RATE_LIMIT",
    "EMAIL_ADDRESS_RATE_LIMIT",
    "LOGIN_RATE_LIMIT",
    "LOGIN_ACCOUNT_RATE_LIMIT",
)
# Shared by every endpoint that emails a typed address, so a victim's inbox has one budget.
EMAIL_ADDRESS_GROUP = "email-address"
# Sign-ups per client address and talk, for HOLD_AFTER: counted in the hour's window, never refused.
SIGN_UP_GROUP = "sign-ups"
SIGN_UP_WINDOW = 3600

_RATE = re.compile(r"(?P<count>\d+)/(?P<multiplier>\d*)(?P<unit>[smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Key = Callable[..., str]


def parse_rate(value: str) -> tuple[int, int] | None:
    """("10/h" → (10, 3600)), None for "off"; ValueError for anything else."""
    value = (value or "").strip().lower()
    if value == "off":
        return None
    match = _RATE.fullmatch(value)
    if not match or int(match["count"]) < 1 or int(match["multiplier"] or 1) < 1:
        raise ValueError('not a rate such as "10/h" or "5/15m", nor "off"')
    return int(match["count"]), int(match["multiplier"] or 1) * _SECONDS[match["unit"]]


def get_usage(request, *, group: str, key: str, rate: tuple[int, int]) -> dict | None:
    """Count one request of `group` by `key` in the current window of `rate` ((count, seconds)).

    django-ratelimit's get_usage(increment=True), with its windows and hashed
    keys: {"count", "limit", "should_limit", "time_left"}, or None with
    RATELIMIT_ENABLE off. Raises what the cache raises (callers fail open).
    """
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    limit, period = rate
    window = _get_window(key, period)
    # Its own prefix: a count is stored as digits here, not pickled as django-ratelimit's own code does.
    cache_key = "n" + _make_cache_key(group, window, rate, key, ALL)
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    count_at_once = getattr(cache, "count", None)
    if count_at_once is not None:
        count = count_at_once(cache_key, timeout=period + EXPIRATION_FUDGE)
    elif cache.add(cache_key, 1, period + EXPIRATION_FUDGE):
        count = 1
    else:
        count = cache.incr(cache_key)
    return {"count": count, "limit": limit, "should_limit": count > limit, "time_left": window - int(time.time())}


def client_ip(request) -> str:
    """The address a request came from, trusting X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says.

    Each trusted proxy appends the address it saw, so the entry that many
    places from the right was written by our own outermost proxy; anything to
    its left came from the client and is ignored. A request with fewer entries
    did not pass through the proxies and is counted under its own address.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def parse_networks(values) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR strings ("10.0.0.0/8", "2001:db8::/32", a bare address) as networks; ValueError naming a bad one."""
    networks = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        try:
            # strict=False: "10.1.2.3/16" means the network it lies in, as people write it.
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not a network in CIDR notation (e.g. 10.0.0.0/8 or 2001:db8::/32)") from None
    return networks


def is_exempt(address: str) -> bool:
    """Whether `address` lies in RATE_LIMIT_EXEMPT_NETWORKS (read and parsed at each call)."""
    if not address or not settings.RATE_LIMIT_EXEMPT_NETWORKS:
        return False
    try:
        networks = parse_networks(settings.RATE_LIMIT_EXEMPT_NETWORKS)
        ip = ipaddress.ip_address(address)
    except ValueError:
        # A bad setting is refused by the system check; until it is fixed, nobody is exempt.
        logger.exception("RATE_LIMIT_EXEMPT_NETWORKS could not be read; no address is exempt")
        return False
    return any(ip in network for network in networks if network.version == ip.version)


def count_sign_up(request, *, slug: str) -> int | None:
    """Count one sign-up for talk `slug` from the request's client address; return the hour's count so far.

    For HOLD_AFTER (registrations' holds): nothing is refused here. The count
    lives in the shared cache under a hashed key (django-ratelimit's) that
    expires with its window, so the address itself is never stored. None when
    the address or the cache is unavailable (the sign-up is then not held for it).
    """
    address = by_ip(request)
    if address == "unknown":
        return None
    key = f"{address}|{slug}"
    try:
        usage = get_usage(request, group=SIGN_UP_GROUP, key=key, rate=(1, SIGN_UP_WINDOW))
    except Exception as error:
        if not outage.database_unavailable(error):  # the sign-up's own queries will meet it too: logged there
            logger.exception("Sign-ups per address could not be counted")
        return None
    return None if usage is None else usage["count"]


def by_ip(request, **view_kwargs) -> str:
    """Per client address; IPv6 clients per /64, the block one household or host is given."""
    address = client_ip(request)
    if not address:
        # gunicorn on a unix socket sees no address: one shared budget makes the
        # missing TRUSTED_PROXY_COUNT show at once, where no limit would hide it.
        return "unknown"
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def by_ip_and(*kwarg_names: str) -> Key:
    """Per client address and per value of the view's URL arguments, e.g. per talk: by_ip_and("slug")."""

    def key(request, **view_kwargs):
        return "|".join([by_ip(request), *(str(view_kwargs.get(name, "")) for name in kwarg_names)])

    return key


def by_post_field(field: str) -> Key:
    """Per value of a posted field, compared trimmed and case-insensitively; blank values are not counted."""

    def key(request, **view_kwargs):
        return request.POST.get(field, "").strip().lower()

    return key


def rate_limit(group: str, *, rate: str, key: Key, methods: tuple[str, ...] = ("POST",), exempt_networks: bool = False):
    """Decorate a view so that more than the rate in setting `rate` per `key` gets the 429 page.

    `group` names the counter (views sharing a group share their budget);
    `key(request, **view_kwargs)` says whose budget a request spends, "" for
    none. Only requests with a method in `methods` count. With
    `exempt_networks` (a limit per client address), clients in
    RATE_LIMIT_EXEMPT_NETWORKS are not counted.
    """

    def decorator(view):
        @wraps(view)
        def limited_view(request, *args, **kwargs):
            if request.method in methods and not (exempt_networks and is_exempt(client_ip(request))):
                retry_after = _over_limit(request, group=group, rate_setting=rate, key=key(request, **kwargs))
                if retry_after is not None:
                    return too_many_requests(request, retry_after=retry_after)
            return view(request, *args, **kwargs)

        return limited_view

    return decorator


def email_rate_limit(group: str, *, field: str = "email"):
    """For a view that emails the address posted in `field`: EMAIL_RATE_LIMIT per client
    address for this view, and EMAIL_ADDRESS_RATE_LIMIT per target address across all such views."""

    def decorator(view):
        view = rate_limit(EMAIL_ADDRESS_GROUP, rate="EMAIL_ADDRESS_RATE_LIMIT", key=by_post_field(field))(view)
        return rate_limit(group, rate="EMAIL_RATE_LIMIT", key=by_ip, exempt_networks=True)(view)

    return decorator


def _over_limit(request, *, group: str, rate_setting: str, key: str) -> int | None:
    """Count this request; the seconds until the window ends if it is over the limit, else None."""
    rate = parse_rate(getattr(settings, rate_setting))
    if rate is None or not key:
        return None
    try:
        usage = get_usage(request, group=group, key=key, rate=rate)
    except Exception as error:
        # The store is down: letting people register beats refusing everyone.
        if not outage.database_unavailable(error):  # the view's own queries will meet it too: logged there
            logger.exception("Rate limit %s could not be counted; letting the request through", group)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    logger.warning("Rate limit %s reached (%s)", group, rate_setting)
    _REFUSALS.labels(group).inc()
    return max(int(usage["time_left"]), 1)


def too_many_requests(request, *, retry_after: int):
    """The 429 page: in the site's look, saying when to try again, with Retry-After."""
    response = render(
        request,
        "429.html",
        {"retry_at": timezone.now() + datetime.timedelta(seconds=retry_after)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response

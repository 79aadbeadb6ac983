"""Password guessing is limited without letting anyone lock someone else out.

Only failed password sign-ins count, in the shared cache (every worker and host sees them):

- per client address (LOGIN_RATE_LIMIT): an address that keeps failing is refused, whatever account it tries;
- per account and address (LOGIN_ACCOUNT_RATE_LIMIT): one address stops guessing one account;
- per account, from many addresses: once failures for an account come from LOGIN_SLOWDOWN_ADDRESSES
  addresses within an hour, each address that failed for it must wait before its next try
  there, 2 s, 4 s, 8 s… up to 15 minutes as the failures go on, and the person is emailed
  once per episode (an hour without failures ends it).

Nothing here is a lock an attacker can hold: an address that has not failed for an
account is never kept waiting by the failures of others, so its owner signs in from their
own address; an account with a second factor is never slowed (a password alone opens
nothing); sign-in through an identity provider never passes here.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from seminar_site.limits import by_ip, parse_rate

from . import audit

logger = logging.getLogger(__name__)

# The clock of the delays (a function, so that tests can hold it still).
_now = time.time

WINDOW = 60 * 60
MAX_DELAY = 15 * 60
PREFIX = "signin"


def _account(username: str) -> str:
    return " ".join((username or "").split()).lower()[:150]


def _key(*parts: str) -> str:
    # Short, safe keys whatever was typed (and no username or address in the store in clear).
    return ":".join([PREFIX, *(hashlib.sha256(part.encode()).hexdigest()[:32] for part in parts)])


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def _bump(key: str, ttl: int) -> int:
    """Add one to a counter that lives `ttl` seconds from its first count (a fixed window)."""
    if cache.add(key, 1, timeout=ttl):
        cache.set(f"{key}:start", _now(), timeout=ttl)
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ttl)
        cache.set(f"{key}:start", _now(), timeout=ttl)
        return 1


def _period(rate_setting: str) -> int:
    rate = parse_rate(getattr(settings, rate_setting))
    return rate[1] if rate else WINDOW


def _over(rate_setting: str, key: str) -> int | None:
    """Seconds until the window of counter `key` ends, if it reached the rate in `rate_setting`."""
    rate = parse_rate(getattr(settings, rate_setting))
    if rate is None:
        return None
    count, period = rate
    if _count(key) < count:
        return None
    started = cache.get(f"{key}:start") or _now()
    return max(int(started + period - _now()), 1)


def check(request, username: str, *, has_second_factor: bool = False) -> int | None:
    """Seconds this client must wait before trying a password for `username`, or None to go ahead."""
    try:
        address, account = by_ip(request), _account(username)
        wait = _over("LOGIN_RATE_LIMIT", _key("address", address))
        if wait is None and account:
            wait = _over("LOGIN_ACCOUNT_RATE_LIMIT", _key("pair", account, address))
        if wait is None and account and not has_second_factor:
            wait = _slowed(account, address)
        return wait
    except Exception:
        # The store is down: letting staff sign in beats refusing everyone.
        logger.exception("Sign-in limits could not be read; letting the attempt through")
        return None


def _delay(failures: int) -> int:
    return min(MAX_DELAY, 2 ** min(failures, 20))


def _slowed(account: str, address: str) -> int | None:
    if _count(_key("addresses", account)) < settings.LOGIN_SLOWDOWN_ADDRESSES:
        return None
    last = cache.get(_key("last", account, address))
    if last is None:
        return None  # this address has not failed for the account: never kept waiting by others
    delay = _delay(_count(_key("slowed", account)))
    wait = int(last + delay - _now())
    return wait if wait > 0 else None


def failed(request, username: str, user=None) -> None:
    """Count a wrong password for `username` from this client (`user`: the account, if there is one)."""
    try:
        address, account = by_ip(request), _account(username)
        _bump(_key("address", address), _period("LOGIN_RATE_LIMIT"))
        if not account:
            return
        _bump(_key("pair", account, address), _period("LOGIN_ACCOUNT_RATE_LIMIT"))
        cache.set(_key("last", account, address), _now(), timeout=WINDOW)
        if cache.add(_key("seen", account, address), 1, timeout=WINDOW):
            addresses = _bump(_key("addresses", account), WINDOW)
        else:
            addresses = _count(_key("addresses", account))
            cache.touch(_key("addresses", account), WINDOW)
        if addresses >= settings.LOGIN_SLOWDOWN_ADDRESSES:
            _bump(_key("slowed", account), WINDOW)
            _start_episode(request, account, user, addresses)
    except Exception:
        logger.exception("A failed sign-in could not be counted")


def _start_episode(request, account: str, user, addresses: int) -> None:
    episode_key = _key("episode", account)
    if not cache.add(episode_key, int(_now()), timeout=WINDOW):
        cache.touch(episode_key, WINDOW)
        return
    started = cache.get(episode_key) or int(_now())
    logger.warning("Password guessing for one account from %s addresses: slowing it down", addresses)
    if user is None:
        return
    from outbox.services import queue_mail

    from . import emails

    with transaction.atomic():
        audit.record(
            audit.Kind.ACCOUNT_SLOWED,
            request=request,
            user=user,
            actor=None,
            method="password",
            detail=f"{addresses}",
        )
        if user.email:
            queue_mail(
                kind=emails.GUESSING,
                to=user.email,
                about=user,
                once_key=f"guessing-{started}",
                data={"addresses": addresses, "language": settings.LANGUAGE_CODE},
            )

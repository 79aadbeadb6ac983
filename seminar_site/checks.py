from django.conf import settings
from django.core import checks

from .limits import RATE_SETTINGS, parse_networks, parse_rate

# Caches whose counters each process (or nothing) keeps for itself: with
# several gunicorn workers, let alone hosts, a limit would count per worker.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches, deploy=False)
def check_shared_cache(app_configs, **kwargs):
    """Rate limits need one store shared by every worker and host once DEBUG is off."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            checks.Error(
                f"The default cache ({backend}) is kept per process, so rate limits would count per worker.",
                hint="Unset CACHE_URL to use the database cache, or point it at Redis (redis://host:6379/0).",
                obj="CACHES",
                id="seminar_site.E001",
            )
        ]
    return []


@checks.register()
def check_rates(app_configs, **kwargs):
    errors = []
    for name in RATE_SETTINGS:
        value = getattr(settings, name, "off")
        try:
            parse_rate(value)
        except ValueError as error:
            errors.append(
                checks.Error(
                    f"{name}={value!r}: {error}",
                    hint='Write a rate as "count/period", e.g. "10/h" or "5/15m", or "off".',
                    obj=name,
                    id="seminar_site.E002",
                )
            )
    return errors


@checks.register()
def check_exempt_networks(app_configs, **kwargs):
    try:
        parse_networks(getattr(settings, "RATE_LIMIT_EXEMPT_NETWORKS", []))
    except ValueError as error:
        return [
            checks.Error(
                f"RATE_LIMIT_EXEMPT_NETWORKS: {error}",
                hint="Comma-separated networks, e.g. RATE_LIMIT_EXEMPT_NETWORKS=128.83.0.0/16,2607:8400::/32.",
                obj="RATE_LIMIT_EXEMPT_NETWORKS",
                id="seminar_site.E003",
            )
        ]
    return []


@checks.register(checks.Tags.caches)
def check_page_cache_channel(app_configs, **kwargs):
    """How workers hear of changed pages, and how late they may."""
    from .pagecache import channels

    errors = []
    try:
        channels.kind(settings.PAGE_CACHE_CHANNEL)
    except ValueError as error:
        errors.append(
            checks.Error(
                f"PAGE_CACHE_CHANNEL={channels.shown(settings.PAGE_CACHE_CHANNEL)!r}: {error}.",
                hint="Leave it at auto unless the cache or the database must be reached another way for listening.",
                obj="PAGE_CACHE_CHANNEL",
                id="seminar_site.E005",
            )
        )
    if not 0 < settings.PAGE_CACHE_LAG <= 60:
        errors.append(
            checks.Error(
                f"PAGE_CACHE_LAG={settings.PAGE_CACHE_LAG!r} must be more than 0 and at most 60 seconds.",
                obj="PAGE_CACHE_LAG",
                id="seminar_site.E006",
            )
        )
    return errors

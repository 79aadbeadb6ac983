from django.conf import settings
from django.core import checks

from .access import parse_networks

# Long enough that guessing it over HTTP is hopeless (secrets.token_urlsafe(32) gives 43).
MIN_TOKEN_LENGTH = 32


@checks.register()
def check_metrics_networks(app_configs, **kwargs):
    try:
        parse_networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    except ValueError as error:
        return [
            checks.Error(
                f"METRICS_ALLOWED_NETWORKS: {error}",
                hint="Give addresses or networks separated by commas, e.g. 10.0.0.0/8,192.0.2.7.",
                obj="METRICS_ALLOWED_NETWORKS",
                id="monitoring.E001",
            )
        ]
    return []


@checks.register(deploy=True)
def check_metrics_token(app_configs, **kwargs):
    token = settings.METRICS_TOKEN
    if token and len(token) < MIN_TOKEN_LENGTH:
        return [
            checks.Warning(
                f"METRICS_TOKEN is {len(token)} characters long; anyone who guesses it can read the metrics.",
                hint=f"Use at least {MIN_TOKEN_LENGTH} random characters, e.g. python -c "
                '"import secrets; print(secrets.token_urlsafe(32))".',
                obj="METRICS_TOKEN",
                id="monitoring.W001",
            )
        ]
    return []

"""Deployment checks for sending mail (`manage.py check --deploy`)."""

from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, Tags, register

PLACEHOLDER_DOMAINS = ("localhost", "example.com", "example.org", "example.net", "example.edu")


def _domain(address: str) -> str:
    addr_spec = parseaddr(address)[1]
    try:
        return Address(addr_spec=addr_spec).domain.lower().rstrip(".")
    except (ValueError, IndexError):
        return ""


def is_placeholder_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        not domain
        or domain in PLACEHOLDER_DOMAINS
        or labels[-1] in ("localhost", "local", "test", "invalid", "example")
        or labels[0] == "example"
        or any(domain.endswith("." + placeholder) for placeholder in PLACEHOLDER_DOMAINS)
    )


@register(Tags.mail, deploy=True)
def check_sender_domain(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    domain = _domain(settings.DEFAULT_FROM_EMAIL)
    if is_placeholder_domain(domain):
        return [
            Error(
                f"DEFAULT_FROM_EMAIL ({settings.DEFAULT_FROM_EMAIL!r}) is on {domain or 'no domain'}, "
                "which no provider can send from.",
                hint="Set DEFAULT_FROM_EMAIL to an address on the domain your mail provider has verified "
                '(DKIM and SPF), e.g. "IFML Seminar <seminars@cs.utexas.edu>". See README.md.',
                id="outbox.E001",
            )
        ]
    return []

from django import template

from seminar_site.addresses import readable_address as _readable_address

register = template.Library()


@register.filter
def readable_address(address):
    """{{ registration.email|readable_address }}: an international domain as people type it.

    See seminar_site/addresses.py."""
    return _readable_address(str(address or ""))

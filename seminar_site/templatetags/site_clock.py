from django import template

from seminar_site import clock

register = template.Library()


@register.filter
def site_time(moment):
    """{{ entry.created_at|site_time }}: "Tue 15 Dec 2026, 11:00 AM CST", on the site's clock with its zone.

    For staff pages' moments that belong to no talk's clock, as the admin's
    lists write them (seminar_site/admin_columns.py). "" for None.
    """
    return clock.moment_text(moment, style=clock.SHORT)

"""Change-list columns the apps' admins share."""

from django.contrib import admin

from . import clock


def site_time(model, field_name: str):
    """The change-list column of the date-time field `field_name` of `model`, on the site's clock with its zone.

    Django writes "Dec. 15, 2026, 11 a.m.", which staff in another zone read
    as their own time; this writes "Tue 15 Dec 2026, 11:00 AM CST" (TIME_ZONE,
    the zone the admin's date filters and date drill-down use too). It keeps
    the field's name as its heading and its CSS class, and sorts by the field.
    A talk's own times are written on the talk's clock instead (events/when.py).

        list_display = ["name", site_time(Registration, "created_at")]
    """
    field = model._meta.get_field(field_name)

    @admin.display(description=field.verbose_name, ordering=field_name)
    def column(obj):
        moment = getattr(obj, field_name)
        # None shows as the admin's empty value, as for the field itself.
        return clock.moment_text(moment, style=clock.SHORT) if moment is not None else None

    column.__name__ = field_name
    return column

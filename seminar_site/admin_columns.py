"""Date-times in the admin with their zone: the change lists' columns and the change pages' read-only fields."""

from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from . import clock


class ZonedTime:
    """The date-time field `field_name` of `model`, written on a clock with its zone.

    Django writes "Dec. 15, 2026, 11 a.m.", which staff in another zone read
    as their own time; this writes "Tue 15 Dec 2026, 11:00 AM CST", on the
    site's clock (TIME_ZONE, the zone the admin's date filters and date
    drill-down use too) or on the one `zone_of(obj)` gives (a talk's own
    times: its venue's). As a change-list column or a read-only field it keeps
    the field's name (its CSS class), its heading and its sorting. Two of them
    for the same field are equal, as the admin's readonly_fields need.
    """

    # An inline table writes its headings' classes with {{ field.name }}: the name, not a call.
    do_not_call_in_templates = True

    def __init__(self, model, field_name: str, *, zone_of=None, empty=None):
        field = model._meta.get_field(field_name)
        self.model, self.field_name, self.zone_of = model, field_name, zone_of
        # None: a list writes its empty value; a read-only field would write "None", so it passes its own.
        self.empty = empty
        self.__name__ = field_name
        self.short_description = field.verbose_name
        self.admin_order_field = field_name

    def __call__(self, obj):
        moment = getattr(obj, self.field_name)
        if moment is None:
            return self.empty
        zone = self.zone_of(obj) if self.zone_of else None
        return clock.moment_text(moment, zone=zone, style=clock.SHORT)

    def __eq__(self, other):
        if not isinstance(other, ZonedTime):
            return NotImplemented
        return (self.model, self.field_name) == (other.model, other.field_name)

    def __hash__(self):
        return hash((ZonedTime, self.model, self.field_name))

    def __str__(self):
        return self.field_name

    def __repr__(self):
        return f"<ZonedTime {self.model._meta.label}.{self.field_name}>"


def site_time(model, field_name: str) -> ZonedTime:
    """The change-list column of the date-time field `field_name` of `model`, on the site's clock with its zone.

        list_display = ["name", site_time(Registration, "created_at")]

    A talk's own times are written on the talk's clock instead (events/when.py).
    """
    return ZonedTime(model, field_name)


class ZonedTimesMixin:
    """Change pages write their read-only date-times as the lists do: with the zone (see ZonedTime).

    Every read-only date-time field of the page, and of its inline tables,
    becomes a ZonedTime when the page is drawn: the ones named in
    readonly_fields, and every one when the user may only view. Times on
    another clock than the site's are named in `time_zones` of the admin or
    the inline: {field name: obj -> zone}. Put it before ModelAdmin in the bases.
    """

    time_zones: dict = {}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        adminform = context.get("adminform")
        if adminform is not None:
            adminform.fieldsets, adminform.readonly_fields = with_zones(
                adminform.fieldsets, adminform.readonly_fields, model_admin=self
            )
        for inline in context.get("inline_admin_formsets", []):
            inline.fieldsets, inline.readonly_fields = with_zones(
                inline.fieldsets,
                inline.readonly_fields,
                model_admin=inline.opts,
                all_readonly=not inline.has_change_permission,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def with_zones(fieldsets, readonly_fields, *, model_admin, all_readonly=False):
    """`fieldsets` and `readonly_fields` with each read-only date-time field of the admin's model as a ZonedTime."""
    model, zones = model_admin.model, getattr(model_admin, "time_zones", {})
    empty = model_admin.get_empty_value_display()

    def zoned(name):
        if not isinstance(name, str) or not (all_readonly or name in readonly_fields):
            return name
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        if not isinstance(field, models.DateTimeField):
            return name
        return ZonedTime(model, name, zone_of=zones.get(name), empty=empty)

    def line(fields):
        # A line of the form is one field, or a tuple of fields side by side.
        return tuple(map(zoned, fields)) if isinstance(fields, (list, tuple)) else zoned(fields)

    fieldsets = [
        (name, {**options, "fields": [line(fields) for fields in options["fields"]]}) for name, options in fieldsets
    ]
    zoned_names = [name for name in flatten_fieldsets(fieldsets) if isinstance(name, ZonedTime)]
    return fieldsets, [*readonly_fields, *zoned_names]

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from outbox.models import OutgoingMail
from seminar_site.admin_columns import ZonedTime, ZonedTimesMixin, site_time

UTC = datetime.UTC


def queued_at(moment):
    return site_time(OutgoingMail, "created_at")(OutgoingMail(created_at=moment))


def test_a_moment_is_written_on_the_sites_clock_with_its_zone(settings):
    assert settings.TIME_ZONE == "America/Chicago"

    assert queued_at(datetime.datetime(2026, 12, 15, 17, tzinfo=UTC)) == "Tue 15 Dec 2026, 11:00 AM CST"
    assert queued_at(datetime.datetime(2026, 7, 1, 16, tzinfo=UTC)) == "Wed 1 Jul 2026, 11:00 AM CDT"
    settings.TIME_ZONE = "Europe/Madrid"
    assert queued_at(datetime.datetime(2026, 12, 15, 17, tzinfo=UTC)) == "Tue 15 Dec 2026, 6:00 PM CET"
    settings.TIME_ZONE = "Asia/Dubai"  # a zone without an abbreviation: its offset
    assert queued_at(datetime.datetime(2026, 12, 15, 17, tzinfo=UTC)) == "Tue 15 Dec 2026, 9:00 PM UTC+04"


def test_the_repeated_hour_says_which_of_the_two_it_is():
    # 1:30 AM happens twice on Sunday, November 1, 2026 in Chicago.
    first = queued_at(datetime.datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    second = queued_at(datetime.datetime(2026, 11, 1, 7, 30, tzinfo=UTC))

    assert (first, second) == ("Sun 1 Nov 2026, 1:30 AM CDT", "Sun 1 Nov 2026, 1:30 AM CST")


def test_the_column_keeps_the_fields_heading_class_and_sorting():
    column = site_time(OutgoingMail, "sent_at")

    assert str(column.short_description) == "sent"
    assert column.admin_order_field == "sent_at"
    assert column.__name__ == "sent_at"  # the cells' CSS class, field-sent_at
    assert column(OutgoingMail(sent_at=None)) is None  # the admin's empty value, as for the field


@pytest.mark.parametrize("model, model_admin", list(admin.site._registry.items()), ids=lambda item: str(item))
def test_no_change_list_shows_a_date_time_without_its_zone(model, model_admin):
    bare = []
    for name in model_admin.list_display:
        if not isinstance(name, str):
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.DateTimeField):
            bare.append(name)

    assert bare == [], f"use seminar_site.admin_columns.site_time for {bare} in {type(model_admin).__name__}"


# Admins whose date-times are all inputs, on pages only superusers open: Django's own and allauth's.
ALL_INPUTS = {"UserAdmin", "SocialAccountAdmin"}


def date_time_fields(model) -> list[str]:
    return [field.name for field in model._meta.get_fields() if isinstance(field, models.DateTimeField)]


@pytest.mark.parametrize("model, model_admin", list(admin.site._registry.items()), ids=lambda item: str(item))
def test_no_change_page_shows_a_date_time_without_its_zone(model, model_admin):
    inlines = [inline.model for inline in model_admin.inlines]
    if type(model_admin).__name__ in ALL_INPUTS or not any(map(date_time_fields, [model, *inlines])):
        return

    assert isinstance(model_admin, ZonedTimesMixin), (
        f"put seminar_site.admin_columns.ZonedTimesMixin in the bases of {type(model_admin).__name__}: "
        f"its page or its inline tables may show {date_time_fields(model)} or those of {inlines}"
    )


def test_a_read_only_time_is_the_same_field_as_its_column_whatever_its_empty_value():
    column = site_time(OutgoingMail, "sent_at")
    shown = ZonedTime(OutgoingMail, "sent_at", empty="-")

    assert shown == column and hash(shown) == hash(column) and shown in ["sent_at", column]
    assert shown != "sent_at" and shown != site_time(OutgoingMail, "created_at")
    assert str(shown) == "sent_at"  # the heading's class in an inline table
    assert shown(OutgoingMail(sent_at=None)) == "-"

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from outbox.models import OutgoingMail
from seminar_site.admin_columns import site_time

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

"""A series' default schedule: where and when its next talk most likely is."""

import datetime

from django.utils import timezone


def next_slot(series, *, after=None) -> datetime.datetime | None:
    """The start of the series' next free regular slot after `after`, or None without a default schedule.

    The first default weekday at the default time (in the default venue's time
    zone, so 11:00 stays 11:00 across a daylight-saving change) that comes after
    `after` and after the series' last talk, on a day with no talk of the series.
    """
    if series.default_weekday is None or series.default_start_time is None:
        return None
    zone = series.local_time_zone
    after = after or timezone.now()
    last = series.events.order_by("-start").values_list("start", flat=True).first()
    if last is not None and last > after:
        after = last
    day = timezone.localtime(after, zone).date()
    while True:
        day += datetime.timedelta(days=1)
        if day.weekday() == series.default_weekday:
            return datetime.datetime.combine(day, series.default_start_time, tzinfo=zone)


def new_talk_initial(series, *, after=None) -> dict:
    """Initial values of the add-a-talk form for `series`, from its default schedule (only what it sets)."""
    initial = {"series": series.pk}
    if series.default_venue_id:
        initial["venue"] = series.default_venue_id
    if series.default_capacity is not None:
        initial["capacity"] = series.default_capacity
    start = next_slot(series, after=after)
    if start is not None:
        initial["start"] = start
        initial["end"] = start + datetime.timedelta(minutes=series.default_duration_minutes)
        if series.registration_opens_days_before is not None:
            initial["registration_opens"] = shift_local(
                start, days=-series.registration_opens_days_before, zone=start.tzinfo
            )
    return initial


def shift_local(moment: datetime.datetime, *, days: int, zone) -> datetime.datetime:
    """`moment` moved by whole days on the wall clock of `zone` (a week later is the same local time)."""
    local = timezone.localtime(moment, zone)
    return datetime.datetime.combine(local.date() + datetime.timedelta(days=days), local.time(), tzinfo=zone)

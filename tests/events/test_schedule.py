import datetime
import zoneinfo

import pytest
from django.utils import timezone

from events.models import Event, Series
from events.schedule import new_talk_initial, next_slot, shift_local

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
THURSDAY = 3


@pytest.fixture
def weekly(series, venue):
    Series.objects.filter(pk=series.pk).update(
        default_weekday=THURSDAY,
        default_start_time=datetime.time(11, 0),
        default_duration_minutes=90,
        default_venue=venue,
        default_capacity=35,
        registration_opens_days_before=10,
    )
    series.refresh_from_db()
    return series


def test_next_slot_is_the_next_default_weekday_at_the_default_local_time(weekly):
    monday = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=CHICAGO)

    assert next_slot(weekly, after=monday) == datetime.datetime(2027, 3, 4, 11, 0, tzinfo=CHICAGO)


def test_next_slot_comes_after_the_series_last_talk(weekly, make_event):
    monday = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=CHICAGO)
    make_event(start=datetime.datetime(2027, 3, 4, 11, 0, tzinfo=CHICAGO))

    assert next_slot(weekly, after=monday) == datetime.datetime(2027, 3, 11, 11, 0, tzinfo=CHICAGO)


def test_no_default_schedule_means_no_slot(series):
    assert next_slot(series) is None
    assert new_talk_initial(series) == {"series": series.pk}


def test_new_talk_initial_fills_everything_the_schedule_says(weekly, venue):
    initial = new_talk_initial(weekly, after=datetime.datetime(2027, 3, 1, 9, 0, tzinfo=CHICAGO))

    assert initial == {
        "series": weekly.pk,
        "venue": venue.pk,
        "capacity": 35,
        "start": datetime.datetime(2027, 3, 4, 11, 0, tzinfo=CHICAGO),
        "end": datetime.datetime(2027, 3, 4, 12, 30, tzinfo=CHICAGO),
        "registration_opens": datetime.datetime(2027, 2, 22, 11, 0, tzinfo=CHICAGO),
    }


def test_shifting_by_a_week_keeps_the_wall_clock_across_daylight_saving():
    before = datetime.datetime(2026, 10, 29, 11, 0, tzinfo=CHICAGO)  # CDT, UTC-5

    after = shift_local(before, days=7, zone=CHICAGO)  # CST, UTC-6

    assert after.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M %Z") == "2026-11-05 11:00 CST"
    assert after.astimezone(datetime.UTC) - before.astimezone(datetime.UTC) == datetime.timedelta(days=7, hours=1)


# The add form


def add_form_initial(client, query=""):
    response = client.get("/admin/events/event/add/" + query)
    assert response.status_code == 200
    return response.context["adminform"].form.initial


def test_add_form_is_prefilled_from_the_series_schedule(admin_client, weekly, venue):
    initial = add_form_initial(admin_client, f"?series={weekly.pk}")

    start = timezone.localtime(initial["start"], CHICAGO)
    assert (start.weekday(), start.time()) == (THURSDAY, datetime.time(11, 0))
    assert start > timezone.now()
    assert initial["end"] - initial["start"] == datetime.timedelta(minutes=90)
    assert (int(initial["series"]), initial["venue"], initial["capacity"]) == (weekly.pk, venue.pk, 35)
    assert initial["start"] - initial["registration_opens"] == datetime.timedelta(days=10)


def test_an_organizer_of_one_series_gets_it_prefilled_without_asking(client, weekly, make_team_member):
    client.force_login(make_team_member(weekly, "alice"))

    initial = add_form_initial(client)

    assert initial["series"] == weekly.pk
    assert initial["capacity"] == 35


def test_another_series_schedule_is_not_prefilled(client, weekly, make_team_member):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    client.force_login(make_team_member(other, "bob"))

    initial = add_form_initial(client, f"?series={weekly.pk}")

    assert initial.get("capacity") is None
    assert "venue" not in initial


@pytest.mark.parametrize("query", ["?series=abc", "?series=-1", "?series=999999"])
def test_a_bad_series_parameter_is_ignored(admin_client, weekly, query):
    initial = add_form_initial(admin_client, query)
    assert "capacity" not in initial


def test_new_talk_saved_from_the_prefilled_form_lands_on_the_schedule(admin_client, weekly, speaker):
    from tests.admin_forms import event_form_data, inline_management_data

    initial = add_form_initial(admin_client, f"?series={weekly.pk}")
    url = "/admin/events/event/add/"
    data = event_form_data(
        series=weekly, venue=weekly.default_venue, speakers=[speaker], start=initial["start"], end=initial["end"]
    )
    response = admin_client.post(url, data | {"capacity": "35"} | inline_management_data(admin_client, url))

    assert response.status_code == 302
    talk = Event.objects.get(slug="a-new-talk")
    assert talk.local_start.strftime("%A %H:%M") == "Thursday 11:00"

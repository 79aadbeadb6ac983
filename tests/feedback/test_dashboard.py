"""The organizers' home after a talk: the last month's talks, who came, who did not, and their rating."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Series
from feedback.services import record_feedback
from tests.dashboard_tables import talk_tables
from tests.teams import member

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")
# The whole home page of an organizer (tests/dashboard/test_views.py): the recent talks take two of them.
QUERIES = 14


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def ended(event, days: float) -> Event:
    end = timezone.now() - datetime.timedelta(days=days)
    Event.objects.filter(pk=event.pk).update(start=end - datetime.timedelta(hours=1), end=end)
    event.refresh_from_db()
    return event


def buttons(html: str, title: str) -> list[str]:
    row = html[html.index(title) :]
    row = row[: row.index("</tr>")]
    return [label for label in ("Door", "Message", "Numbers", "Poster", "Edit") if f">{label}</a>" in row]


def test_a_talk_of_last_week_shows_who_came_who_did_not_and_what_they_thought(client, series, audience):
    event = audience["came"].event
    record_feedback(registration=audience["came"], rating=5)
    record_feedback(registration=audience["online"], rating=4, comment="Good sound")

    html = home(client, member(series, "ana"))

    rows = talk_tables(html, "Recent talks")["IFML Seminar"]
    # In the room: Ana came, Ben did not (Dmitri waited, Eve cancelled: neither counts); Chloé was online.
    assert rows == {
        event.title: {"Came": "1 / 2", "No-shows": "1 (50%)", "Online": "1", "Rating": "4.5 of 5 2 answers"}
    }
    # Nothing of who answered what, and no door or poster for a talk that is over.
    assert "Good sound" not in html and "Ana Ortiz" not in html
    assert buttons(html, event.title) == ["Message", "Numbers", "Edit"]
    assert f'href="{reverse("reports:event", args=[event.pk])}"' in html


def test_only_the_last_months_published_talks_of_the_users_series(client, series, make_event):
    other = Series.objects.create(name="Robotics", slug="robotics", organizer_email="r@example.edu")
    quiet = ended(make_event(title="Nobody rated it", slug="quiet"), days=2)
    ended(make_event(title="Two months ago", slug="old"), days=60)
    ended(make_event(title="Cancelled talk", slug="cancelled", status=Event.Status.CANCELLED), days=2)
    ended(make_event(title="Draft talk", slug="draft", status=Event.Status.DRAFT), days=2)
    ended(make_event(series=other, title="Robot hands", slug="hands"), days=2)
    make_event(title="Next week's talk", slug="coming", start=timezone.now() + datetime.timedelta(days=3))

    html = home(client, member(series, "ana"))

    assert list(talk_tables(html, "Recent talks")["IFML Seminar"]) == [quiet.title]
    assert "no answers yet" in html
    assert "Two months ago" not in html and "Robot hands" not in html and "Cancelled talk" not in html
    assert buttons(html, "Next week&#x27;s talk") == ["Door", "Message", "Numbers", "Poster", "Edit"]


def test_no_recent_talk_no_panel(client, series, make_event):
    make_event(title="Next week's talk", slug="coming", start=timezone.now() + datetime.timedelta(days=3))

    assert "Recent talks" not in home(client, member(series, "ana"))


@pytest.mark.parametrize("count", [1, 8])
def test_the_same_number_of_queries_for_1_and_for_8_recent_talks(
    client, series, make_event, sign_up, django_assert_num_queries, count
):
    for n in range(count):
        event = make_event(title=f"Talk {n}", slug=f"talk-{n}")
        sign_up(event)
        ended(event, days=1 + n)
    ana = member(series, "ana")
    client.force_login(ana)
    client.get(HOME)

    with django_assert_num_queries(QUERIES):
        html = client.get(HOME).content.decode()

    rows = talk_tables(html, "Recent talks")["IFML Seminar"]
    assert list(rows) == [f"Talk {n}" for n in range(min(count, 5))]
    assert ("and 3 more recent talks" in html) == (count == 8)

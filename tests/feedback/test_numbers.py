"""Organizers see the distribution and the comments, without names, on the numbers pages and in their CSV."""

import csv
import io
import threading

import pytest
from django.db import connection
from django.test import Client

from feedback import services
from feedback.models import Feedback
from tests.html import page_text


@pytest.fixture
def organizer(make_team_member, series):
    client = Client()
    client.force_login(make_team_member(series, "olga"))
    return client


@pytest.fixture
def answered(audience, past_event, make_event):
    """Three answers: two in the room (one added at the door after the talk), one online."""
    from events.models import Event
    from registrations import services as registrations

    Event.objects.filter(pk=past_event.pk).update(capacity=10)
    past_event.refresh_from_db()
    late = registrations.register(
        event=past_event, name="Walk In", email="walkin@example.edu", at_door=True, now=past_event.start
    ).registration
    registrations.check_in(registration=late)
    services.record_feedback(registration=audience["came"], rating=5, comment="Superb, Ana Ortiz says.")
    services.record_feedback(registration=audience["online"], rating=3, comment="Audio was poor online.")
    services.record_feedback(registration=late, rating=5)
    return past_event


def csv_rows(client, url) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_talks_numbers_show_the_distribution_equal_to_the_database(organizer, answered):
    event = answered
    expected = {rating: Feedback.objects.of_event(event).filter(rating=rating).count() for rating in range(1, 6)}

    page = page_text(organizer.get(f"/staff/numbers/talks/{event.pk}/"))
    rows = csv_rows(organizer, f"/staff/numbers/talks/{event.pk}/feedback-ratings.csv")

    assert rows[0] == ["Rating", "Answers"]
    assert {int(label[0]): int(count) for label, count in rows[1:]} == expected == {1: 0, 2: 0, 3: 1, 4: 0, 5: 2}
    assert "3 of 3 attendees answered; the mean rating is 4.3 of 5." in page


def test_comments_are_shown_without_names(organizer, answered, audience):
    event = answered
    page = organizer.get(f"/staff/numbers/talks/{event.pk}/").content.decode()
    rows = csv_rows(organizer, f"/staff/numbers/talks/{event.pk}/feedback-comments.csv")

    assert rows == [["Rating", "Comment"], ["5", "Superb, Ana Ortiz says."], ["3", "Audio was poor online."]]
    for registration in audience.values():
        assert registration.email not in page
    assert "Chloé" not in page
    # A table, no chart.
    assert organizer.get(f"/staff/numbers/talks/{event.pk}/feedback-comments.svg").status_code == 404


def test_the_chart_of_the_ratings_is_an_svg_with_its_title(organizer, answered):
    response = organizer.get(f"/staff/numbers/talks/{answered.pk}/feedback-ratings.svg")

    assert response.status_code == 200
    assert "<title" in response.content.decode() and "Feedback: ratings" in response.content.decode()


def test_the_series_numbers_list_each_talks_mean_rating(organizer, answered, series):
    rows = csv_rows(organizer, f"/staff/numbers/series/{series.pk}/feedback.csv")

    assert rows[0] == ["Talk", "Mean rating (of 5)", "Answers", "Date"]
    assert rows[1][:3] == [answered.title, "4.33", "3"]


def test_door_staff_and_other_series_see_no_feedback(answered, make_team_member, series, other_series):
    from events.models import SeriesMember

    for user in (
        make_team_member(series, "dora", role=SeriesMember.Role.DOOR),
        make_team_member(other_series, "theo"),
    ):
        client = Client()
        client.force_login(user)
        assert client.get(f"/staff/numbers/talks/{answered.pk}/feedback-comments.csv").status_code in (403, 404)
        assert client.get(f"/staff/numbers/talks/{answered.pk}/").status_code in (403, 404)


def test_a_talk_to_come_has_no_feedback_tables(organizer, make_event):
    event = make_event()
    assert "Feedback" not in page_text(organizer.get(f"/staff/numbers/talks/{event.pk}/"))


@pytest.fixture
def other_series(db):
    from events.models import Series

    return Series.objects.create(
        name="Theory Lunch", slug="theory-lunch", organizer_name="Theory", organizer_email="theory@example.edu"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_answers_of_one_registration_leave_one(require_postgres, make_event):
    from datetime import timedelta

    from django.utils import timezone

    from events.models import Event
    from registrations import services as registrations

    event = make_event()
    registration = registrations.register(event=event, name="Ana Ortiz", email="ana@example.edu").registration
    registrations.check_in(registration=registration)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=2)
    )
    barrier = threading.Barrier(8)
    errors = []

    def answer(rating):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            services.record_feedback(registration=registration, rating=rating)
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(1 + n % 5,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Feedback.objects.filter(registration=registration).count() == 1


def test_erasing_a_registrant_forgets_their_comment_and_keeps_their_rating(answered, audience):
    from registrations.services import erase_personal_data

    erase_personal_data(registrations=[audience["came"]])

    answer = Feedback.objects.get(registration=audience["came"])
    assert (answer.rating, answer.comment) == (5, "")
    assert Feedback.objects.get(registration=audience["online"]).comment == "Audio was poor online."

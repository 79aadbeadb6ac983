"""The feedback page: GET records nothing, POST records once (a second replaces), only by a valid link."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Event
from feedback.models import Feedback, answer_path, answer_token
from feedback.services import ANSWER_WINDOW, record_feedback
from materials.models import registrant_token
from registrations.models import Registration
from tests.html import page_text


def test_opening_the_link_records_nothing(client, audience, answer_url):
    for params in ({}, {"rating": "5"}, {"rating": "1"}):
        response = client.get(answer_url(audience["came"], **params))
        assert response.status_code == 200

    assert Feedback.objects.count() == 0


def test_the_rating_of_the_emails_link_is_chosen_on_the_page(client, audience, answer_url):
    page = client.get(answer_url(audience["came"], rating="4")).content.decode()

    checked = re.findall(r'<input type="radio" name="rating" value="(\d)"[^>]*\bchecked\b', page)
    assert checked == ["4"]


def test_posting_records_the_answer_and_shows_it_saved(client, audience, answer_url):
    response = client.post(answer_url(audience["came"]), {"rating": "4", "comment": "  Clear and well paced.  "})

    assert response.status_code == 302
    (answer,) = Feedback.objects.all()
    assert (answer.registration, answer.rating, answer.comment) == (audience["came"], 4, "Clear and well paced.")
    page = page_text(client.get(response["Location"]))
    assert "Thank you: your answer is saved." in page


def test_two_posts_count_once_and_the_second_replaces_the_first(client, audience, answer_url):
    url = answer_url(audience["came"])
    client.post(url, {"rating": "2", "comment": "Too fast."})
    client.post(url, {"rating": "5", "comment": ""})

    (answer,) = Feedback.objects.all()
    assert (answer.rating, answer.comment) == (5, "")


def test_someone_online_may_answer_too(client, audience, answer_url):
    client.post(answer_url(audience["online"]), {"rating": "3"})
    assert Feedback.objects.get().registration == audience["online"]


@pytest.mark.parametrize(
    "data",
    [{}, {"rating": "0"}, {"rating": "6"}, {"rating": "five"}, {"rating": "4", "comment": "x" * 10_001}],
)
def test_bad_answers_are_explained_and_record_nothing(client, audience, answer_url, data):
    response = client.post(answer_url(audience["came"]), data)

    assert response.status_code == 400
    assert "Please check the form" in page_text(response)
    assert Feedback.objects.count() == 0


def test_markup_in_a_comment_stays_text(client, audience, answer_url, make_team_member, series):
    client.post(answer_url(audience["came"]), {"rating": "4", "comment": "<script>alert(1)</script>\r\nLine two"})

    assert Feedback.objects.get().comment == "<script>alert(1)</script>\nLine two"
    organizer = Client()
    organizer.force_login(make_team_member(series, "olga"))
    page = organizer.get(f"/staff/numbers/talks/{audience['came'].event_id}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("which", ["tampered", "manage link", "check-in link", "materials link", "not a token"])
def test_a_link_that_is_not_this_registrations_feedback_link_is_refused(client, audience, which):
    registration = audience["came"]
    token = answer_token(registration)
    tokens = {
        "tampered": token[:-2] + ("xy" if not token.endswith("xy") else "zz"),
        "manage link": registration.token,
        "check-in link": registration.checkin_token,
        "materials link": registrant_token(registration),
        "not a token": "hello",
    }

    for method in (client.get, client.post):
        response = method(f"/feedback/{tokens[which]}/", {"rating": "5"})
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()

    assert Feedback.objects.count() == 0


def test_a_link_answers_only_for_its_own_registration(client, audience, answer_url):
    client.post(answer_url(audience["came"]), {"rating": "5"})
    client.post(answer_url(audience["online"]), {"rating": "1"})

    assert dict(Feedback.objects.values_list("registration", "rating")) == {
        audience["came"].pk: 5,
        audience["online"].pk: 1,
    }


@pytest.mark.parametrize("who", ["no_show", "waited", "cancelled"])
def test_people_who_did_not_attend_cannot_answer(client, audience, answer_url, who):
    response = client.post(answer_url(audience[who]), {"rating": "5"})

    assert response.status_code == 403
    assert "Only people who attended the talk can rate it." in page_text(response)
    assert Feedback.objects.count() == 0


def test_a_series_that_stopped_asking_takes_no_answers(client, audience, answer_url, series):
    series.ask_for_feedback = False
    series.save()

    response = client.post(answer_url(audience["came"]), {"rating": "5"})

    assert response.status_code == 410
    assert Feedback.objects.count() == 0


def test_answers_close_a_month_after_the_talk(client, audience, answer_url, past_event):
    from datetime import timedelta

    from events.models import Event

    Event.objects.filter(pk=past_event.pk).update(
        start=past_event.start - timedelta(days=40), end=past_event.end - timedelta(days=40)
    )

    response = client.get(answer_url(audience["came"]))

    assert response.status_code == 410
    assert "Feedback on this talk is closed." in page_text(response)


def test_the_page_is_private(client, audience, answer_url):
    response = client.get(answer_url(audience["came"]))

    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert audience["came"].email not in response.content.decode()


def test_the_page_speaks_spanish(client, audience, answer_url):
    page = page_text(client.get(answer_url(audience["came"]), headers={"accept-language": "es"}))
    assert "¿Qué tal" in page


# The registrant's own page, once the talk is over


def _page(client, registration) -> str:
    return " ".join(client.get(registration.get_absolute_url()).content.decode().split())


def test_after_the_talk_an_attendees_page_thanks_them_and_asks_how_it_was(client, audience):
    came = audience["came"]

    page = _page(client, came)

    assert "Thank you for coming" in page and "Ana Ortiz was checked in at the door on" in page
    assert "Your seat is confirmed" not in page and "A confirmation email is on its way" not in page
    assert "How was the talk?" in page and f'href="{answer_path(came)}"' in page
    # Nothing left to cancel, and no calendar entry to keep current.
    assert "Cancel my registration" not in page and "anyone with it can cancel" not in page
    assert "anyone with it can see this registration" in page
    assert "Your calendar" not in page

    record_feedback(registration=came, rating=4)
    page = _page(client, came)
    assert "You rated it 4 of 5." in page and "Change your answer" in page


def test_after_the_talk_a_no_show_is_told_it_is_over_and_not_asked(client, audience):
    page = _page(client, audience["no_show"])

    assert "This talk is over" in page and "The seat of Ben Okafor was confirmed." in page
    assert "Thank you for coming" not in page and "How was the talk?" not in page


def test_after_the_talk_someone_who_waited_is_no_longer_promised_a_seat(client, audience):
    page = _page(client, audience["waited"])

    assert "This talk is over" in page and "Dmitri Ivanov was on the waiting list: no place freed up in time." in page
    assert "You are on the waiting list" not in page and "we email you" not in page
    assert "Leave the waiting list" not in page and "How was the talk?" not in page


def test_after_the_talk_a_seat_still_held_is_said_to_be_unconfirmed(client, audience):
    held = audience["no_show"]
    # Left held past the talk (the sweeper that releases it was down).
    Registration.objects.filter(pk=held.pk).update(
        status=Registration.Status.HELD, hold_reason="demand", hold_until=timezone.now() - datetime.timedelta(days=4)
    )

    page = _page(client, held)

    assert "The place held for Ben Okafor was not confirmed by email." in page
    assert "Check your email" not in page and "How was the talk?" not in page


def test_after_the_talk_an_online_attendee_may_rate_it_too(client, audience):
    page = _page(client, audience["online"])

    assert "This talk is over" in page and "The online place of Chloé Dubois was confirmed." in page
    assert "How was the talk?" in page


def test_a_month_after_the_talk_the_page_no_longer_asks(client, audience):
    came = audience["came"]
    end = timezone.now() - ANSWER_WINDOW - datetime.timedelta(hours=1)
    Event.objects.filter(pk=came.event_id).update(start=end - datetime.timedelta(hours=1), end=end)

    page = _page(client, came)

    assert "Thank you for coming" in page and "How was the talk?" not in page


def test_before_the_talk_the_page_is_as_ever(client, sign_up, make_event):
    registration = sign_up(make_event(start=timezone.now() + datetime.timedelta(days=2)))

    page = _page(client, registration)

    assert "Your seat is confirmed" in page and "How was the talk?" not in page
    assert "Your calendar" in page and "anyone with it can cancel this registration" in page

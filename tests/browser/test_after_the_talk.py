"""After the talk: an attendee opens the recording from their email, then rates the talk by keyboard only."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from feedback.models import Feedback
from feedback.services import queue_due_feedback_requests
from materials import services as materials
from materials.models import Announcement, Audience
from registrations import services as registrations
from tests import pdfs
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIDEO_HOST = "https://video.example.edu"
RECORDING = f"{VIDEO_HOST}/watch/42"


@pytest.fixture
def attendee_after_the_talk(make_event, live_site_url):
    """A talk that ended three hours ago, Ana checked in at its door, a recording and slides added since."""
    event = make_event()
    ana = registrations.register(event=event, name="Ana Ortiz", email="ana@example.edu").registration
    registrations.check_in(registration=ana)
    end = timezone.now() - datetime.timedelta(hours=3)
    Event.objects.filter(pk=event.pk).update(start=end - datetime.timedelta(hours=1), end=end)
    event.refresh_from_db()
    materials.add_material(
        event=event, kind="recording", title="Recording of the talk", visibility="registrants", url=RECORDING
    )
    materials.add_material(
        event=event, kind="slides", title="Slides", visibility="public", upload=pdfs.upload(pdfs.slides())
    )
    return event, ana


def test_an_attendee_opens_the_recording_from_their_email_and_rates_the_talk_by_keyboard(
    new_page, attendee_after_the_talk, sent_links
):
    event, ana = attendee_after_the_talk
    announcement = Announcement.objects.create(event=event, audience=[Audience.ATTENDED])
    materials.send_announcement(announcement=announcement, actor=None)
    materials_link = next(link for link in sent_links("ana@example.edu") if "/materials/r/" in link)
    assert RECORDING in sent_links("ana@example.edu")

    page = new_page()
    # The video site cannot run here: the browser gets a stand-in page for it.
    page.route(
        f"{VIDEO_HOST}/**",
        lambda route: route.fulfill(
            content_type="text/html", body="<!doctype html><title>Video</title><h1>Recording 42</h1>"
        ),
    )

    page.goto(materials_link)
    expect(page.get_by_role("heading", level=1, name=re.compile("^Materials: "))).to_be_visible()
    assert_accessible(page)
    with page.expect_request(f"{VIDEO_HOST}/**") as opened:
        page.get_by_role("link", name="Recording of the talk").click()
    expect(page.get_by_role("heading", name="Recording 42")).to_be_visible()
    # The link carries the registrant's token in its path; the site's referrer policy keeps it home.
    assert "referer" not in {name.lower() for name in opened.value.headers}

    assert queue_due_feedback_requests() == 1
    feedback_link = next(link for link in sent_links("ana@example.edu") if "/feedback/" in link)
    page.goto(feedback_link)
    expect(page.get_by_role("heading", level=1, name=re.compile("^How was"))).to_be_visible()
    assert_accessible(page)
    assert Feedback.objects.count() == 0  # opening it records nothing

    # Keyboard only: Tab to the ratings, arrows to pick "4", Tab to the comment, Tab and Enter to send.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "rating":
            break
    else:
        pytest.fail("Tab never reached the rating")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("4 – Very good")).to_be_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "comment"
    page.keyboard.type("Clear, and the demo was great.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Send"
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Thank you: your answer is saved.")
    assert_accessible(page)
    answer = Feedback.objects.get()
    assert (answer.registration_id, answer.rating, answer.comment) == (ana.pk, 4, "Clear, and the demo was great.")


def test_the_organizers_see_the_feedback_on_the_numbers_page(new_page, attendee_after_the_talk):
    from django.contrib.auth import get_user_model

    from events.models import SeriesMember
    from feedback.services import record_feedback

    event, ana = attendee_after_the_talk
    record_feedback(registration=ana, rating=5, comment="Wonderful <b>demo</b>.")
    organizer = get_user_model().objects.create_user("olga", password="correct horse battery")
    SeriesMember.objects.create(series=event.series, user=organizer)
    page = new_page()

    page.goto(f"/staff/numbers/talks/{event.pk}/")
    page.get_by_label("Username:").fill("olga")
    page.get_by_label("Password:").fill("correct horse battery")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Feedback: ratings")).to_be_visible()
    expect(page.get_by_role("cell", name="Wonderful <b>demo</b>.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("1 of 1 attendees answered"))).to_be_visible()
    assert "Ana" not in page.locator("main").inner_text()
    assert_accessible(page)

"""An organizer calls a talk off: asked first on a page of its own, with room to say why."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from events.models import Event
from registrations import services
from tests.browser.axe import assert_accessible
from tests.browser.test_questions import organizer
from tests.mime import sent, text_body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_organizer_cancels_a_talk_after_seeing_who_is_told(page, make_event, live_server, artifacts):
    event = make_event(title="Generating a Video", capacity=1)
    services.register(event=event, name="Ana Ortiz", email="ana@example.edu")
    services.register(event=event, name="Ben Okafor", email="ben@example.edu")
    organizer("maria", "a long organizer passphrase", event.series)
    mail.outbox.clear()

    page.goto("/admin/")
    page.get_by_label("Username:").fill("maria")
    page.get_by_label("Password:").fill("a long organizer passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/events/event/{event.pk}/change/")
    page.get_by_role("link", name="Cancel this talk…").click()
    page.get_by_role("button", name="No, take me back").click()
    expect(page.get_by_label("Status:")).to_have_value("published")
    page.get_by_role("link", name="Cancel this talk…").click()

    expect(page.get_by_text("1 registrant with a seat (confirmed: 1, held until they confirm: 0)")).to_be_visible()
    expect(page.get_by_text("1 person on the waiting list will be emailed too.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Why, and what happens instead:").fill("The speaker is ill.\nWe will reschedule in spring.")
    page.screenshot(path=artifacts / "admin-cancel-talk.png", full_page=True)
    page.get_by_role("button", name="Yes, cancel the talk").click()

    expect(page.get_by_text("The talk is cancelled: its 2 registrants are told by email.")).to_be_visible()
    assert Event.objects.get(pk=event.pk).status == Event.Status.CANCELLED
    messages = sent()
    assert len(messages) == 2
    assert all("The speaker is ill.\nWe will reschedule in spring." in text_body(m) for m in messages)
    page.goto(event.get_absolute_url())
    expect(page.get_by_role("alert")).to_contain_text("The speaker is ill.")

"""A registrant who lost the email, and a client over the limit, in a real browser."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registrations import services
from registrations.models import OutgoingMail, Registration
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registrant_gets_their_link_again(page, make_event, sent_links):
    event = make_event()
    registration = services.register(event=event, name="Ana Ortiz", email="ana@example.edu").registration
    # The confirmation went out a while ago (a fresh one would not be repeated).
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    page.goto(event.get_absolute_url())
    page.get_by_role("link", name="Get the link to your registration again").click()
    expect(page.get_by_role("heading", name="Lost your link?")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email:", exact=True).fill("ANA@example.edu")
    page.get_by_role("button", name="Email me my links").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert_accessible(page)
    link = next(link for link in sent_links("ana@example.edu") if "/r/" in link)
    assert link.endswith(registration.get_absolute_url())
    page.goto(link)
    expect(page.get_by_role("link", name="Cancel my registration")).to_be_visible()


def test_over_the_limit_the_browser_shows_when_to_try_again(page, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event()

    for name, email in [("Ana Ortiz", "ana@example.edu"), ("Ben Okafor", "ben@example.edu")]:
        page.goto(event.get_absolute_url())
        page.get_by_label("Name:", exact=True).fill(name)
        page.get_by_label("Email:", exact=True).fill(email)
        page.get_by_label(re.compile("I agree")).check()
        page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Please try again in \d+"))).to_be_visible()
    assert_accessible(page)
    assert list(Registration.objects.values_list("email", flat=True)) == ["ana@example.edu"]

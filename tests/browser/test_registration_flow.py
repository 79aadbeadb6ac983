import re

import pytest
from playwright.sync_api import expect

from registrations.models import OutgoingMail, Registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_then_cancel_in_the_browser(page, make_event):
    event = make_event(capacity=40)

    page.goto(event.get_absolute_url())
    expect(page.get_by_text("40 of 40 seats left")).to_be_visible()
    page.get_by_label("Name:", exact=True).fill("Zoë Ñúñez")
    page.get_by_label("Email:", exact=True).fill("zoe+seminar@example.edu")
    page.get_by_label("Affiliation:", exact=True).fill("UT Austin")
    page.get_by_label("Position:", exact=True).select_option("postdoc")
    page.get_by_label(re.compile("I agree")).check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name=re.compile("your seat is confirmed"))).to_be_visible()
    registration = Registration.objects.get()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.name == "Zoë Ñúñez"
    assert page.url.endswith(f"/r/{registration.token}/?new=1")

    page.goto(registration.get_absolute_url())
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", name="Cancel your registration?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel my registration").click()

    expect(page.get_by_text("Your registration is cancelled. Thank you!")).to_be_visible()
    expect(page.get_by_role("heading", name="This registration is cancelled")).to_be_visible()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert set(registration.outgoing_mails.values_list("kind", flat=True)) == {
        OutgoingMail.Kind.CONFIRMATION,
        OutgoingMail.Kind.CANCELLATION,
    }
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_form_errors_are_shown_next_to_the_fields(page, make_event):
    event = make_event()

    page.goto(event.get_absolute_url())
    page.get_by_label("Name:", exact=True).fill("Ana")
    page.get_by_label("Email:", exact=True).fill("not-an-address")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_text("Please agree to the privacy notice")).to_be_visible()
    expect(page.get_by_label("Name:", exact=True)).to_have_value("Ana")
    assert not Registration.objects.exists()

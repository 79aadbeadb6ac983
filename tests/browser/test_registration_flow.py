"""The paths people take, end to end: the browser, the live server, the sent email."""

import itertools
import re

import pytest
from playwright.sync_api import expect

from outbox.models import OutgoingMail
from registrations.models import MailKind, Registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_registration(page, *, name, email, affiliation="", position=""):
    page.get_by_label("Name:", exact=True).fill(name)
    page.get_by_label("Email:", exact=True).fill(email)
    if affiliation:
        page.get_by_label("Affiliation:", exact=True).fill(affiliation)
    if position:
        page.get_by_label("Position:", exact=True).select_option(position)
    page.get_by_label(re.compile("I agree")).check()


def self_service_link(sent_links, address):
    links = [link for link in sent_links(address) if "/r/" in link]
    assert links, f"no self-service link in the email to {address}"
    return links[0]


def test_home_to_talk_to_registration_to_email_link_to_cancel(page, make_event, sent_links):
    event = make_event(title="Generating a Video: Reflecting on a Two-Year Odyssey", capacity=2)

    page.goto("/")
    page.get_by_role("link", name="Generating a Video: Reflecting on a Two-Year Odyssey").click()
    expect(page).to_have_url(re.compile(f"{event.get_absolute_url()}$"))
    expect(page.get_by_text("2 of 2 seats left")).to_be_visible()

    fill_registration(
        page, name="Zoë Ñúñez, Jr.", email="zoe+seminar@example.edu", affiliation="UT Austin", position="postdoc"
    )
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Thank you, your seat is confirmed")).to_be_visible()
    expect(page.get_by_text("A confirmation email is on its way to zoe+seminar@example.edu")).to_be_visible()
    page.get_by_role("link", name=event.title).click()
    expect(page.get_by_text("1 of 2 seats left")).to_be_visible()

    # The link in the confirmation email, as the registrant would follow it.
    page.goto(self_service_link(sent_links, "zoe+seminar@example.edu"))
    expect(page.get_by_role("heading", name="Your seat is confirmed")).to_be_visible()
    expect(page.get_by_text("Zoë Ñúñez, Jr.").first).to_be_visible()
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", name="Cancel your registration?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel my registration").click()

    expect(page.get_by_text("Your registration is cancelled. Thank you!")).to_be_visible()
    expect(page.get_by_role("heading", name="This registration is cancelled")).to_be_visible()
    page.get_by_role("link", name=event.title).click()
    expect(page.get_by_text("2 of 2 seats left")).to_be_visible()

    registration = Registration.objects.get()
    assert registration.status == Registration.Status.CANCELLED
    assert list(registration.outgoing_mails.order_by("pk").values_list("kind", "status")) == [
        (MailKind.CONFIRMATION, OutgoingMail.Status.SENT),
        (MailKind.CANCELLATION, OutgoingMail.Status.SENT),
    ]


def test_an_address_at_an_international_domain_is_shown_as_typed(page, make_event, sent_links):
    event = make_event()
    page.goto(event.get_absolute_url())
    fill_registration(page, name="Zoë Ñúñez", email="zoe@例え.jp")
    page.get_by_role("button", name="Register").click()

    # Chromium posted the domain in ASCII ("xn--r8jz45g.jp"); the page speaks of the address the person typed.
    expect(page.get_by_text("A confirmation email is on its way to zoe@例え.jp")).to_be_visible()
    assert "xn--" not in page.locator("main").inner_text()
    assert Registration.objects.get().email == "zoe@xn--r8jz45g.jp"
    page.goto(self_service_link(sent_links, "zoe@xn--r8jz45g.jp"))
    expect(page.get_by_text("zoe@例え.jp", exact=True)).to_be_visible()


def test_a_cancellation_promotes_the_first_in_line_who_sees_it_on_their_page(new_page, make_event, sent_links):
    event = make_event(capacity=1)
    ana, ben = new_page(), new_page()

    ana.goto(event.get_absolute_url())
    fill_registration(ana, name="Ana Ortiz", email="ana@example.edu")
    ana.get_by_role("button", name="Register").click()
    expect(ana.get_by_role("heading", name="Thank you, your seat is confirmed")).to_be_visible()

    ben.goto(event.get_absolute_url())
    expect(ben.get_by_text("Full – join the waiting list")).to_be_visible()
    fill_registration(ben, name="Ben Okafor", email="ben@example.edu")
    ben.get_by_role("button", name="Join the waiting list").click()
    expect(ben.get_by_role("heading", name="You are on the waiting list")).to_be_visible()
    expect(ben.get_by_text("number 1")).to_be_visible()
    ben_link = self_service_link(sent_links, "ben@example.edu")

    ana.goto(self_service_link(sent_links, "ana@example.edu"))
    ana.get_by_role("link", name="Cancel my registration").click()
    ana.get_by_role("button", name="Yes, cancel my registration").click()
    expect(ana.get_by_text("Your registration is cancelled. Thank you!")).to_be_visible()

    ben.goto(ben_link)
    expect(ben.get_by_role("heading", name="Your seat is confirmed")).to_be_visible()
    expect(ben.get_by_text("Status").locator("..").get_by_text("Confirmed")).to_be_visible()
    # …and the email said so, with the same link.
    assert self_service_link(sent_links, "ben@example.edu") == ben_link
    assert (
        Registration.objects.get(email="ben@example.edu")
        .outgoing_mails.filter(kind=MailKind.PROMOTED, status=OutgoingMail.Status.SENT)
        .exists()
    )


def test_form_errors_are_shown_next_to_the_fields(page, make_event):
    event = make_event()

    page.goto(event.get_absolute_url())
    page.get_by_label("Name:", exact=True).fill("Ana")
    page.get_by_label("Email:", exact=True).fill("not-an-address")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_text("Enter a valid email address.", exact=True)).to_be_visible()
    expect(
        page.get_by_text("Please agree to the privacy notice so we can keep your registration.", exact=True)
    ).to_be_visible()
    expect(page.get_by_label("Name:", exact=True)).to_have_value("Ana")
    assert not Registration.objects.exists()


def test_on_a_phone_the_registrants_page_keeps_its_cards_apart_and_the_code_before_cancelling(
    new_page, make_event, sign_up
):
    event = make_event(attendance_mode="hybrid", capacity=5)
    registration = sign_up(event, name="Zoë Ñúñez")
    page = new_page(viewport={"width": 390, "height": 844})

    page.goto(registration.get_absolute_url())

    cards = page.locator("article.registration > .card")
    boxes = [cards.nth(n).bounding_box() for n in range(cards.count())]
    assert len(boxes) >= 3
    for above, below in itertools.pairwise(boxes):
        assert below["y"] - (above["y"] + above["height"]) >= 16, "cards touch each other"
    code = page.get_by_role("heading", name="Your check-in code").bounding_box()
    cancel = page.get_by_role("link", name="Cancel my registration").bounding_box()
    assert code["y"] < cancel["y"]

    page.get_by_role("link", name="Cancel my registration").click()
    keep = page.get_by_role("link", name="No, keep it")
    line_height = keep.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert keep.bounding_box()["height"] < 1.5 * line_height, "'No, keep it' breaks over two lines"

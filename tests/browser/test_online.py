"""Attending online: choose it on the form, see the link on your own page only from when it should show."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registrations.models import Registration
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZOOM = "https://utexas.zoom.us/j/91234567890"


def test_choose_online_and_see_the_link_appear_only_when_it_should(page, make_event, sent_links):
    start = timezone.now() + datetime.timedelta(hours=3)
    event = make_event(
        attendance_mode=Event.AttendanceMode.HYBRID,
        capacity=1,
        stream_url=ZOOM,
        stream_reveal_minutes=60,
        start=start,
    )

    page.goto(event.get_absolute_url())
    expect(page.get_by_text("In the room: 1 of 1 seats left")).to_be_visible()
    expect(page.get_by_text("Online: open to everyone")).to_be_visible()
    page.get_by_role("radio", name="Online: we send you the link").check()
    page.get_by_label("Name:", exact=True).fill("Zoë Ñúñez")
    page.get_by_label("Email:", exact=True).fill("zoe@example.edu")
    page.get_by_label(re.compile("I agree")).check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Thank you, your online place is confirmed")).to_be_visible()
    expect(page.get_by_text("The link to join appears here from")).to_be_visible()
    expect(page.get_by_role("link", name="Join the talk online")).to_have_count(0)
    assert ZOOM not in page.content()
    assert not any("zoom" in link for link in sent_links("zoe@example.edu"))
    assert_accessible(page)

    # An hour before the start, the page shows the link.
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() + datetime.timedelta(minutes=59), end=timezone.now() + datetime.timedelta(minutes=119)
    )
    page.goto(self_service := Registration.objects.get().get_absolute_url())
    expect(page.get_by_role("link", name="Join the talk online")).to_have_attribute("href", ZOOM)
    assert_accessible(page)

    # The talk page itself never shows it.
    page.goto(event.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert ZOOM not in page.content()
    assert self_service != event.get_absolute_url()


def test_someone_waiting_for_the_room_switches_online_in_one_click(new_page, make_event):
    event = make_event(attendance_mode=Event.AttendanceMode.HYBRID, capacity=1, stream_url=ZOOM)
    ana, ben = new_page(), new_page()
    for person, name, email in ((ana, "Ana Ortiz", "ana@example.edu"), (ben, "Ben Okafor", "ben@example.edu")):
        person.goto(event.get_absolute_url())
        person.get_by_role("radio", name=re.compile("In person")).check()
        person.get_by_label("Name:", exact=True).fill(name)
        person.get_by_label("Email:", exact=True).fill(email)
        person.get_by_label(re.compile("I agree")).check()
        person.get_by_role("button", name="Register").click()

    expect(ben.get_by_role("heading", name="You are on the waiting list")).to_be_visible()
    expect(ben.get_by_role("link", name="Join the talk online")).to_have_count(0)
    assert_accessible(ben)
    ben.get_by_role("button", name="Attend online instead").click()

    expect(ben.get_by_text("You now attend online. The confirmation is on its way.")).to_be_visible()
    expect(ben.get_by_role("heading", name="Your online place is confirmed")).to_be_visible()
    expect(ben.get_by_role("link", name="Join the talk online")).to_have_attribute("href", ZOOM)
    # Ana, in the room, never sees it.
    ana.reload()
    expect(ana.get_by_role("heading", name=re.compile("your seat is confirmed", re.I))).to_be_visible()
    assert ZOOM not in ana.content()

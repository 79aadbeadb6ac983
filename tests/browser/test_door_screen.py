"""The screen by the door on a 1080p TV: readable, axe clean, current within its refresh interval, and refusing
a wrong or changed link."""

import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from doorscreen import services
from tests.qr import qr_codes

from .axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TV = {"viewport": {"width": 1920, "height": 1080}, "device_scale_factor": 1}
REFRESH = 1  # second


@pytest.fixture
def screen_page(new_page, settings, live_site_url, series, make_event):
    settings.DOOR_SCREEN_REFRESH_SECONDS = REFRESH
    event = make_event(title="Generating a Video: Reflecting on a Two-Year Odyssey", capacity=3)
    screen = services.rotate_screen_link(series=series)
    page = new_page(**TV)
    page.goto(screen.get_absolute_url(), wait_until="networkidle")
    return page, event, screen


def test_the_screen_updates_after_a_registration_without_reloading(screen_page, sign_up, artifacts):
    page, event, _screen = screen_page
    seats = page.get_by_role("status")
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
    expect(seats).to_have_text("3 seats left")
    assert_accessible(page)
    # Big enough to read from two metres: the title and the seats at least 64 px high on a 1080p screen.
    for locator in (page.get_by_role("heading", level=1), seats):
        assert float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 64
    page.evaluate("() => { window.notReloaded = true; }")

    sign_up(event)
    registered = time.monotonic()
    # Within one refresh interval of the next poll (plus slack for a loaded machine).
    expect(seats).to_have_text("2 seats left", timeout=(2 * REFRESH + 8) * 1000)
    assert time.monotonic() - registered < 2 * REFRESH + 8
    assert page.evaluate("() => window.notReloaded === true"), "the page reloaded instead of updating in place"

    sign_up(event)
    sign_up(event)
    expect(seats).to_have_text("Full: join the waiting list", timeout=(2 * REFRESH + 8) * 1000)
    assert page.evaluate("() => window.notReloaded === true")
    assert_accessible(page)

    shot = artifacts / "door-screen-1920.png"
    page.screenshot(path=shot)
    qr = page.locator("img[data-field=qr]")
    qr.screenshot(path=artifacts / "door-screen-qr.png")
    assert qr_codes(Image.open(artifacts / "door-screen-qr.png")) == [
        f"{page.url.split('/screen/')[0]}{event.get_absolute_url()}"
    ]


def test_a_wrong_link_is_refused(new_page, live_server, screen_page):
    _page, event, screen = screen_page
    page = new_page(**TV)
    response = page.goto(f"/screen/{screen.key[:-2]}xy/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Unknown screen link")
    assert event.title not in page.content()
    assert_accessible(page)


def test_a_rotated_link_stops_the_open_screen(screen_page, series):
    page, event, screen = screen_page
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
    new = services.rotate_screen_link(series=series)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "link was changed or switched off", timeout=(2 * REFRESH + 8) * 1000
    )
    assert event.title not in page.content()
    assert page.goto(screen.get_absolute_url()).status == 404
    assert page.goto(new.get_absolute_url()).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)


def test_a_panel_of_speakers_and_a_long_name_leave_the_time_room_and_seats_on_the_screen(
    new_page, live_site_url, series, make_event
):
    from events.models import Speaker

    series.name = "Institute for Foundations of Machine Learning (IFML) Seminar Series, Spring Term"
    series.save()
    event = make_event(title="Generating a Video: Reflecting on a Two-Year Odyssey " * 4, capacity=3)
    for n in range(6):
        event.speakers.add(
            Speaker.objects.create(name=f"Zoë Núñez-Ångström {n}", affiliation="Université de Montréal, Mila")
        )
    page = new_page(**TV)
    page.goto(services.rotate_screen_link(series=series).get_absolute_url(), wait_until="networkidle")

    rule = page.locator(".screen__top").bounding_box()
    below_heading = rule["y"] + rule["height"]
    title = page.get_by_role("heading", level=1).bounding_box()
    assert title["y"] >= below_heading, "the talk ran up over the series' name"
    for field in ("when", "place", "seats"):
        box = page.locator(f"[data-field={field}]").bounding_box()
        assert below_heading <= box["y"] and box["y"] + box["height"] <= 1080, field
    expect(page.get_by_role("status")).to_have_text("3 seats left")

"""The demo talk as a phone and a laptop show it, the organizers' dashboard, a poster and the screen by the door,
kept as test artifacts.

UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/, the ones the README shows.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from events.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.mark.parametrize("width", [360, 1280])
def test_talk_page_screenshot(new_page, artifacts, width):
    call_command("load_demo", stdout=None)
    event = Event.objects.get()
    page = new_page(viewport={"width": width, "height": 800}, device_scale_factor=1)

    page.goto(event.get_absolute_url(), wait_until="networkidle")

    expect(page.get_by_role("heading", level=1, name=event.title)).to_be_visible()
    expect(page.get_by_role("button", name="Register")).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    path = artifacts / f"talk-{width}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)


def _keep(path: Path) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)


@pytest.fixture
def demo_term(sign_up):
    """The demo talk, with people registered, and the next weeks' talks of the series (one a draft)."""
    import datetime

    from events.services import duplicate_event

    call_command("load_demo", stdout=None)
    event = Event.objects.get()
    for n in range(8):
        sign_up(event, name=f"Person {n}", email=f"person{n}@example.edu")
    for weeks in (1, 2, 3):
        copy = duplicate_event(event=event, weeks=weeks, copy_speaker_texts=True)
        if weeks < 3:
            Event.objects.filter(pk=copy.pk).update(
                status=Event.Status.PUBLISHED, title=f"{event.title} (part {weeks + 1})"
            )
    for n in range(3):
        sign_up(Event.objects.get(title__endswith="(part 2)"), name=f"Early {n}", email=f"early{n}@example.edu")
    event.refresh_from_db()
    assert event.start > datetime.datetime.now(datetime.UTC)
    return event


def test_dashboard_screenshot(new_page, artifacts, demo_term, django_user_model):
    # And the demo's talk of two weeks ago, under recent talks.
    call_command("load_demo_history", stdout=None)
    django_user_model.objects.create_superuser("organizer", "organizer@example.edu", "correct horse battery")
    page = new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page.goto(reverse("admin:index"))
    page.get_by_label("Username:").fill("organizer")
    page.get_by_label("Password:").fill("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="IFML Seminar")).to_be_visible()
    expect(page.get_by_role("rowheader").filter(has_text=demo_term.title).first).to_be_visible()
    expect(page.get_by_role("heading", name="Recent talks")).to_be_visible()
    path = artifacts / "dashboard-1280.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000
    _keep(path)
    # On a phone the page itself never scrolls sideways: only a wide table does, within its panel.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "dashboard-390.png", full_page=True)


def test_poster_screenshot(artifacts, demo_term, tmp_path):
    from posters import pdf
    from tests.posters.conftest import render

    image = render(pdf.talk_poster(demo_term, paper="letter"), tmp_path, dpi=72)
    path = artifacts / "poster-letter.png"
    image.save(path)
    _keep(path)


def test_door_screen_screenshot(new_page, artifacts, demo_term, live_site_url):
    from doorscreen import services

    screen = services.rotate_screen_link(series=demo_term.series)
    page = new_page(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page.goto(screen.get_absolute_url(), wait_until="networkidle")
    expect(page.get_by_role("status")).to_contain_text("32 seats left")
    path = artifacts / "door-screen-1920.png"
    page.screenshot(path=path)
    _keep(path)

"""The demo talk as a phone and a laptop show it, kept as test artifacts.

UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/, the ones the README shows.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
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

"""A speaker edits their talk from the emailed link on a phone: form, preview, save; axe clean throughout."""

import datetime
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event, Speaker
from speaker_edits import services
from tests.browser.axe import assert_accessible
from tests.speaker_edits.conftest import gps_exif, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_speaker_edits_previews_and_saves_on_a_phone(new_page, make_event, sent_links, tmp_path):
    event = make_event()
    services.invite_speaker(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    link = next(link for link in sent_links("atlas@example.edu") if "/speaker/talks/" in link)
    photo = tmp_path / "me.jpg"
    photo.write_bytes(jpeg_bytes((1600, 1200), exif=gps_exif()))
    page = new_page(**PHONE)

    page.goto(link)
    expect(page.get_by_role("heading", name="Your talk's details, Atlas Wang")).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("Title of the talk:").fill("Video Generation, Two Years On")
    page.get_by_label("Bio:").fill("Atlas works on video models. <script>alert(1)</script>")
    page.get_by_label("New photo:").set_input_files(str(photo))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview of your changes")).to_be_visible()
    expect(page.get_by_role("heading", name="Video Generation, Two Years On")).to_be_visible()
    expect(page.get_by_text("<script>alert(1)</script>")).to_be_visible()  # text, not a script
    preview_photo = page.get_by_role("img", name="Photo of Atlas Wang")
    expect(preview_photo).to_be_visible()
    # Visible is the <img> box (its width and height are given); the file may still be on its way.
    photo_loaded = page.wait_for_function(
        "(img) => img.complete && img.naturalWidth", arg=preview_photo.element_handle()
    )
    assert photo_loaded.json_value() == 800
    assert_accessible(page)
    assert Event.objects.get(pk=event.pk).title != "Video Generation, Two Years On"

    page.get_by_role("button", name="Save these changes").click()
    expect(page.get_by_role("heading", name="Your changes are saved")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="See your talk's page").click()
    expect(page.get_by_role("heading", name="Video Generation, Two Years On")).to_be_visible()
    expect(page.get_by_role("img", name="Photo of Atlas Wang")).to_be_visible()
    speaker = Speaker.objects.get(pk=event.speakers.get().pk)
    from PIL import Image

    stored = Image.open(io.BytesIO(bytes(speaker.photo.data)))
    assert stored.getexif().get_ifd(0x8825) == {}
    assert sent_links("ifml-seminar@example.edu")  # the organizers were told


def test_a_bad_upload_is_explained_next_to_the_field(new_page, make_event, sent_links, tmp_path):
    event = make_event()
    services.invite_speaker(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    link = next(link for link in sent_links("atlas@example.edu") if "/speaker/talks/" in link)
    not_a_photo = tmp_path / "cv.jpg"
    not_a_photo.write_bytes(b"%PDF-1.7 a CV, not a photo")
    page = new_page(**PHONE)

    page.goto(link)
    page.get_by_label("New photo:").set_input_files(str(not_a_photo))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("alert")).to_contain_text("This file is not a photo we can read")
    assert_accessible(page)


def test_an_edit_conflict_keeps_the_speakers_text_and_shows_what_changed(new_page, make_event, sent_links):
    event = make_event()
    services.invite_speaker(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    link = next(link for link in sent_links("atlas@example.edu") if "/speaker/talks/" in link)
    page = new_page(**PHONE)

    page.goto(link)
    page.get_by_label("Title of the talk:").fill("The Speaker's Title")
    page.get_by_label("Abstract:").fill("A long abstract the speaker typed with care. " * 20)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview of your changes")).to_be_visible()
    Event.objects.filter(pk=event.pk).update(abstract="The organizer's abstract, written meanwhile. " * 10)
    page.get_by_role("button", name="Save these changes").click()

    expect(page.get_by_role("heading", name="Changed while you were editing")).to_be_visible()
    expect(page.get_by_label("Title of the talk:")).to_have_value("The Speaker's Title")
    expect(page.get_by_label("Abstract:")).to_have_value(("A long abstract the speaker typed with care. " * 20).strip())
    expect(page.get_by_role("cell", name="The organizer's abstract, written meanwhile.", exact=False)).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

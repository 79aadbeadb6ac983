"""Organizers add materials in the admin (the recording later); the same checks as everywhere."""

import re

import pytest
from django.test import Client

from materials.models import Material
from tests import pdfs
from tests.html import page_text


@pytest.fixture
def organizer(make_team_member, series):
    client = Client()
    client.force_login(make_team_member(series, "olga"))
    return client


def form(event, **fields):
    return {"event": event.pk, "kind": "slides", "title": "Slides", "visibility": "public", "url": ""} | fields


def test_an_organizer_uploads_slides_and_adds_the_recording_later(organizer, past_event, client):
    response = organizer.post("/admin/materials/material/add/", form(past_event, file=pdfs.upload(pdfs.slides())))
    assert response.status_code == 302
    organizer.post(
        "/admin/materials/material/add/",
        form(past_event, kind="recording", title="Recording", url="https://video.example.edu/42"),
    )

    slides, recording = Material.objects.order_by("pk")
    assert (slides.size, slides.filename, slides.added_by.username) == (len(pdfs.slides()), "slides.pdf", "olga")
    assert recording.url == "https://video.example.edu/42"
    page = page_text(client.get(past_event.get_absolute_url()))
    assert "Slides" in page and "Recording" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"file": "png"}, "This is not a PDF file."),
        ({"file": "js"}, "This PDF contains JavaScript"),
        ({"file": "big"}, "a file may be at most"),
        ({}, "Give a link or upload a PDF file (one of them)."),
        ({"url": "https://x.example.edu", "file": "pdf"}, "Give a link or upload a PDF file (one of them)."),
        ({"kind": "recording", "file": "pdf"}, "A recording is a link to where it plays."),
        ({"url": "javascript:alert(1)"}, "Enter a valid URL."),
    ],
)
def test_refused_materials_are_explained_and_nothing_is_kept(
    organizer, past_event, materials_dir, settings, fields, message
):
    settings.MATERIALS_MAX_BYTES = 2000
    files = {
        "png": pdfs.upload(pdfs.PNG),
        "js": pdfs.upload(pdfs.with_javascript()),
        "big": pdfs.upload(pdfs.slides(pages=20)),
        "pdf": pdfs.upload(pdfs.slides()),
    }
    if "file" in fields:
        fields = fields | {"file": files[fields["file"]]}

    response = organizer.post("/admin/materials/material/add/", form(past_event, **fields))

    page = page_text(response)
    assert response.status_code == 200
    # Said once, in the site's words: never the database constraint's name, nor a second guess.
    assert page.count(message) == 1
    assert "is violated" not in page and "material_link_or_file" not in page
    assert ("Give a link or upload" in page) == ("one of them" in message)
    assert not Material.objects.exists()
    assert not any(path.is_file() for path in materials_dir.rglob("*"))


def test_organizers_see_only_their_series_materials(
    past_event, add_material, make_team_member, other_series, make_event
):
    mine = add_material(past_event, title="Our slides")
    theirs = add_material(make_event(series=other_series), title="Their slides")
    client = Client()
    client.force_login(make_team_member(other_series, "theo"))

    listing = page_text(client.get("/admin/materials/material/"))

    assert "Their slides" in listing and "Our slides" not in listing
    assert client.get(f"/admin/materials/material/{mine.pk}/change/").status_code == 404
    assert client.get(f"/admin/materials/material/{theirs.pk}/change/").status_code == 200


def test_the_talks_admin_page_links_to_its_materials(organizer, past_event):
    page = organizer.get(f"/admin/events/event/{past_event.pk}/change/").content.decode()
    assert f'href="/staff/materials/talks/{past_event.pk}/"' in page
    response = organizer.get(f"/staff/materials/talks/{past_event.pk}/")
    assert response["Location"] == f"/admin/materials/material/?event__id__exact={past_event.pk}"


def test_add_material_from_a_talks_materials_is_for_that_talk(organizer, past_event, make_event):
    make_event(title="Another talk")
    listing = organizer.get(f"/staff/materials/talks/{past_event.pk}/", follow=True)
    add_url = re.search(
        r'href="(/admin/materials/material/add/\?_changelist_filters=[^"]*)"', listing.content.decode()
    )[1]

    form = organizer.get(add_url.replace("&amp;", "&")).content.decode()

    assert re.search(rf'<option value="{past_event.pk}" selected>', form)

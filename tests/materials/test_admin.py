"""Organizers add materials in the admin (the recording later); the same checks as everywhere."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events.models import Venue
from materials.models import Material
from tests import pdfs
from tests.html import change_list, page_text

CHANGELIST = "/admin/materials/material/"


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


def test_the_list_writes_each_talk_on_its_clock_and_when_it_was_added_on_the_sites(organizer, add_material, make_event):
    madrid = Venue.objects.create(room="Aula 2", default_capacity=50, time_zone="Europe/Madrid")
    talk = make_event(venue=madrid, start=datetime.datetime(2026, 12, 16, 17, 0, tzinfo=datetime.UTC))
    first = add_material(talk, title="Slides", url="https://example.edu/slides")
    later = add_material(talk, kind="recording", title="Recording", url="https://video.example.edu/42")
    Material.objects.filter(pk=first.pk).update(created_at=datetime.datetime(2026, 12, 16, 20, tzinfo=datetime.UTC))
    Material.objects.filter(pk=later.pk).update(created_at=datetime.datetime(2026, 12, 18, 15, tzinfo=datetime.UTC))

    listing = change_list(organizer.get(CHANGELIST).content.decode())

    rows = {row["shown_title"]: row for row in listing.rows}
    assert rows["Slides"]["talk"].endswith("(Wed 16 Dec 2026, 6:00 PM CET)")
    assert rows["Slides"]["created_at"] == "Wed 16 Dec 2026, 2:00 PM CST"
    assert rows["Recording"]["created_at"] == "Fri 18 Dec 2026, 9:00 AM CST"
    # In the order they were added (within a talk); a click on the heading turns it round, and back.
    assert listing.column("shown_title") == ["Slides", "Recording"]
    newest_first = change_list(organizer.get(CHANGELIST + listing.sort_links["created_at"]).content.decode())
    assert newest_first.column("shown_title") == ["Recording", "Slides"]
    oldest_first = organizer.get(CHANGELIST + newest_first.sort_links["created_at"]).content.decode()
    assert change_list(oldest_first).column("shown_title") == ["Slides", "Recording"]


def test_the_list_costs_the_same_queries_whatever_its_length(organizer, add_material, make_event):
    add_material(make_event(), url="https://example.edu/0")
    organizer.get(CHANGELIST)  # fills the content type cache, which other tests may have filled
    with CaptureQueriesContext(connection) as one:
        organizer.get(CHANGELIST)
    for number in range(1, 10):
        venue = Venue.objects.create(room=f"Room {number}", default_capacity=50, time_zone="Europe/Madrid")
        add_material(make_event(venue=venue), url=f"https://example.edu/{number}")

    with CaptureQueriesContext(connection) as ten:
        response = organizer.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 10
    assert len(ten) == len(one)

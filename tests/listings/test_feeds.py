import datetime
import html
import xml.etree.ElementTree as ET
import zoneinfo

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from registrations import services

ATOM = "{http://www.w3.org/2005/Atom}"
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def parse_atom(response) -> ET.Element:
    """The feed parsed as XML, checked for what RFC 4287 requires of a feed and of each entry."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *feed.iter(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{required}")) == 1, f"{element.tag} needs one {required}"
        datetime.datetime.fromisoformat(element.findtext(f"{ATOM}updated"))
    for entry in feed.iter(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None or feed.find(f"{ATOM}author") is not None
    return feed


def titles(feed) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]


def test_site_feed_lists_exactly_the_public_upcoming_talks_soonest_first(client, public_and_hidden_talks):
    feed = parse_atom(client.get("/talks.atom"))

    assert titles(feed) == ["Sooner talk", "Other series talk", "Cancelled: Called-off talk", "Later talk"]
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://seminars.example.edu/talks.atom"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == "https://seminars.example.edu/"


def test_series_feed_lists_only_its_own_talks(client, public_and_hidden_talks):
    feed = parse_atom(client.get("/series/ifml-seminar/talks.atom"))

    assert titles(feed) == ["Sooner talk", "Cancelled: Called-off talk", "Later talk"]
    assert feed.findtext(f"{ATOM}title") == "IFML Seminar: upcoming talks"
    assert (
        feed.find(f"{ATOM}link[@rel='self']").get("href")
        == "https://seminars.example.edu/series/ifml-seminar/talks.atom"
    )


def test_an_entry_says_when_where_and_who_with_absolute_links(client, make_event, venue):
    venue.address = "2317 Speedway, Austin, TX 78712"
    venue.save()
    event = make_event(start=datetime.datetime(2031, 12, 1, 11, 0, tzinfo=CHICAGO))

    entry = parse_atom(client.get("/talks.atom")).find(f"{ATOM}entry")

    assert entry.find(f"{ATOM}link").get("href") == f"https://seminars.example.edu/events/{event.slug}/"
    assert entry.findtext(f"{ATOM}id") == f"tag:seminars.example.edu,{event.created_at:%Y-%m-%d}:event-{event.pk}"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Atlas Wang (The University of Texas at Austin)"
    assert entry.find(f"{ATOM}category").get("term") == "IFML Seminar"
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    text = html.unescape(strip_tags(summary.text))
    assert "Monday, December 1, 2031, 11:00 AM – 12:00 PM CST" in text
    assert "GDC 6.302, Gates Dell Complex, 2317 Speedway, Austin, TX 78712" in text
    assert "recount the developmental trajectory" in text


def test_the_entry_id_survives_a_new_slug(client, event):
    before = parse_atom(client.get("/talks.atom")).find(f"{ATOM}entry").findtext(f"{ATOM}id")
    event.slug = "renamed"
    event.save()
    after = parse_atom(client.get("/talks.atom")).find(f"{ATOM}entry").findtext(f"{ATOM}id")
    assert before == after


def test_markup_and_control_characters_in_texts_stay_well_formed(client, make_event):
    make_event(title='<script>alert("x")</script> & “Diffusion”', abstract="Line one\nLine <b>two</b> & more")

    feed = parse_atom(client.get("/talks.atom"))

    assert titles(feed) == ['<script>alert("x")</script> & “Diffusion”']
    assert "&lt;b&gt;two&lt;/b&gt;" in feed.find(f"{ATOM}entry/{ATOM}summary").text


def test_a_cancelled_entry_says_so_with_the_organizers_message_escaped(client, make_event):
    cancelled = make_event(
        title="Called-off talk",
        status="cancelled",
        cancellation_note="The speaker is ill <b>again</b> & we reschedule.\nSee you in spring.",
    )
    make_event(title="Talk that is on")

    for url in ("/talks.atom", "/series/ifml-seminar/talks.atom"):
        entries = {entry.findtext(f"{ATOM}title"): entry for entry in parse_atom(client.get(url)).iter(f"{ATOM}entry")}
        summary = entries[f"Cancelled: {cancelled.title}"].findtext(f"{ATOM}summary")
        # The HTML a reader shows: the notice, then the message as text (its markup shown, not obeyed).
        assert summary.startswith(
            "<p><strong>This talk was cancelled.</strong></p>\n"
            "<p>The speaker is ill &lt;b&gt;again&lt;/b&gt; &amp; we reschedule.<br>See you in spring.</p>\n"
        )
        assert "cancelled" not in entries["Talk that is on"].findtext(f"{ATOM}summary")


def test_feeds_carry_no_personal_data(client, event, django_capture_on_commit_callbacks):
    services.register(event=event, name="Zoë Registrant", email="zoe.registrant@example.edu", affiliation="Secret Lab")

    for url in ("/talks.atom", "/series/ifml-seminar/talks.atom"):
        content = client.get(url).content.decode()
        assert "Zoë" not in content
        assert "zoe.registrant" not in content
        assert "Secret Lab" not in content
        assert event.series.organizer_email not in content


def test_feeds_are_cacheable(client, event):
    response = client.get("/talks.atom")
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    assert response["Last-Modified"]


def test_an_empty_feed_is_still_valid(client, db):
    assert titles(parse_atom(client.get("/talks.atom"))) == []


def test_unknown_series_feed_is_a_404(client, db):
    assert client.get("/series/nope/talks.atom").status_code == 404


@pytest.mark.parametrize("url", ["/", "/events/past/"])
def test_every_page_advertises_the_site_feed(client, db, url):
    page = client.get(url).content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Seminars: upcoming talks" href="/talks.atom">' in page
    )


def test_series_and_talk_pages_advertise_the_series_feed(client, event):
    for url in (event.get_absolute_url(), event.series.get_absolute_url()):
        page = client.get(url).content.decode()
        assert (
            '<link rel="alternate" type="application/atom+xml" title="IFML Seminar: upcoming talks" '
            'href="/series/ifml-seminar/talks.atom">'
        ) in page
        assert 'type="application/json"' in page


def test_feed_query_count_does_not_grow_with_the_number_of_talks(client, make_event, django_assert_num_queries):
    make_event()
    with django_assert_num_queries(3):  # the talks, their speakers, their materials
        client.get("/talks.atom")
    for _ in range(10):
        make_event(start=timezone.now() + datetime.timedelta(days=3))
    with django_assert_num_queries(3):
        client.get("/talks.atom")


def test_an_online_talk_without_venue_is_online_in_the_feed(client, make_event):
    make_event(venue=None, attendance_mode="online", stream_url="https://utexas.zoom.us/j/555")

    response = client.get("/talks.atom")
    text = html.unescape(strip_tags(parse_atom(response).find(f"{ATOM}entry").find(f"{ATOM}summary").text))

    assert "Where: Online" in " ".join(text.split())
    assert "None" not in text and "zoom.us" not in response.content.decode()


# Past talks, with their materials


@pytest.fixture
def past_with_materials(make_event):
    from materials import services as materials
    from tests import pdfs

    now = timezone.now()
    older = make_event(title="Older talk", start=now - datetime.timedelta(days=30))
    recent = make_event(title="Recent talk", start=now - datetime.timedelta(days=3))
    make_event(title="Called off", start=now - datetime.timedelta(days=10), status="cancelled")
    make_event(title="Coming talk", start=now + datetime.timedelta(days=3))
    slides = materials.add_material(
        event=recent, kind="slides", title="Slides", visibility="public", upload=pdfs.upload(pdfs.slides())
    )
    materials.add_material(
        event=recent, kind="recording", title="Recording", visibility="public", url="https://video.example.edu/42"
    )
    materials.add_material(
        event=recent, kind="recording", title="Secret cut", visibility="staff", url="https://video.example.edu/raw"
    )
    return {"older": older, "recent": recent, "slides": slides}


def test_the_past_feed_lists_talks_that_took_place_with_their_materials(client, past_with_materials):
    feed = parse_atom(client.get("/talks/past.atom"))

    assert titles(feed) == ["Recent talk", "Older talk"]
    entry = feed.find(f"{ATOM}entry")
    summary = html.unescape(strip_tags(entry.find(f"{ATOM}summary").text))
    assert "Materials:" in summary and "Recording" in summary and "Secret cut" not in summary
    enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
    slides = past_with_materials["slides"]
    assert enclosure.get("href") == f"https://seminars.example.edu{slides.get_absolute_url()}"
    assert (enclosure.get("type"), enclosure.get("length")) == ("application/pdf", str(slides.size))
    assert client.get(slides.get_absolute_url()).status_code == 200


def test_a_recording_added_later_updates_the_entry(client, past_with_materials):
    from materials import services as materials

    before = parse_atom(client.get("/talks/past.atom")).find(f"{ATOM}entry").findtext(f"{ATOM}updated")
    materials.add_material(
        event=past_with_materials["recent"], kind="paper", title="Paper", visibility="public", url="https://arxiv.org"
    )
    after = parse_atom(client.get("/talks/past.atom")).find(f"{ATOM}entry").findtext(f"{ATOM}updated")

    assert datetime.datetime.fromisoformat(after) > datetime.datetime.fromisoformat(before)


def test_the_series_past_feed_and_the_page_advertise_each_other(client, past_with_materials):
    feed = parse_atom(client.get("/series/ifml-seminar/past.atom"))

    assert titles(feed) == ["Recent talk", "Older talk"]
    assert '<link rel="alternate" type="application/atom+xml"' in client.get("/events/past/").content.decode()
    assert 'href="/talks/past.atom"' in client.get("/events/past/").content.decode()


@pytest.mark.parametrize(
    "url",
    ["/talks.atom", "/talks/past.atom", "/series/ifml-seminar/talks.atom", "/series/ifml-seminar/past.atom"],
)
def test_talks_without_speakers_are_still_valid_atom(client, make_event, url, series):
    for title, start in [("Past, nobody named", -3), ("Coming, nobody named", 3)]:
        make_event(title=title, start=timezone.now() + datetime.timedelta(days=start)).speakers.clear()

    feed = parse_atom(client.get(url))  # RFC 4287 4.1.2: each entry has an author, or the feed one for all

    assert len(feed.findall(f"{ATOM}entry")) == 1
    assert feed.findtext(f"{ATOM}author/{ATOM}name") in ("IFML Seminar", "Seminars")

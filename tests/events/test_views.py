import datetime
import zoneinfo

import pytest
from django.utils import timezone

from events.models import Event, Speaker, SpeakerPhoto
from events.services import cancel_event

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def html(response):
    return response.content.decode()


@pytest.fixture
def staff_client(client, make_team_member, series):
    client.force_login(make_team_member(series, "organizer"))
    return client


# Home and past pages


def test_home_lists_upcoming_published_talks_soonest_first(client, make_event):
    now = timezone.now()
    make_event(title="Later talk", start=now + datetime.timedelta(days=20))
    make_event(title="Sooner talk", start=now + datetime.timedelta(days=3))
    make_event(title="Old talk", start=now - datetime.timedelta(days=3))
    make_event(title="Secret draft", status=Event.Status.DRAFT)

    page = html(client.get("/"))

    assert page.index("Sooner talk") < page.index("Later talk")
    assert "Old talk" not in page
    assert "Secret draft" not in page
    assert 'href="/events/past/"' in page
    assert "GDC 6.302" in page
    assert "Atlas Wang" in page


def test_drafts_stay_off_the_home_page_even_for_staff(staff_client, make_event):
    make_event(title="Secret draft", status=Event.Status.DRAFT)
    make_event(title="Public talk")

    page = html(staff_client.get("/"))

    assert "Public talk" in page
    assert "Secret draft" not in page


def test_home_says_so_when_nothing_is_scheduled(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "No talks are scheduled right now" in html(response)


def test_past_page_lists_finished_talks_newest_first(client, make_event):
    now = timezone.now()
    make_event(title="Long ago", start=now - datetime.timedelta(days=60))
    make_event(title="Last week", start=now - datetime.timedelta(days=7))
    make_event(title="Next week", start=now + datetime.timedelta(days=7))

    page = html(client.get("/events/past/"))

    assert page.index("Last week") < page.index("Long ago")
    assert "Next week" not in page
    assert 'href="/"' in page


def test_the_split_between_upcoming_and_past_is_the_end_of_the_talk(client, make_event):
    now = timezone.now()
    make_event(title="Just ended", start=now - datetime.timedelta(minutes=61), end=now - datetime.timedelta(minutes=1))
    make_event(title="Under way", start=now - datetime.timedelta(minutes=30), end=now + datetime.timedelta(minutes=30))

    home, past = html(client.get("/")), html(client.get("/events/past/"))

    assert "Under way" in home
    assert "Happening now" in home
    assert "Just ended" not in home
    assert "Just ended" in past
    assert "Under way" not in past


def test_home_query_count_does_not_grow_with_the_number_of_talks(
    client, make_event, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # what rendering the page costs
    make_event()
    # Count for the paginator, the talks with series and venue, their speakers.
    with django_assert_num_queries(3):
        assert client.get("/").status_code == 200

    for _ in range(29):
        event = make_event()
        event.speakers.add(Speaker.objects.create(name="Second speaker"))
    with django_assert_num_queries(3):
        response = client.get("/")
    assert len(response.context["event_list"]) == 20


@pytest.mark.parametrize("talks", [1, 30])
def test_home_from_the_page_cache_asks_nothing_of_the_database(client, make_event, django_assert_num_queries, talks):
    for _ in range(talks):
        make_event()
    client.get("/")

    # The page and the token of what it shows are in this worker's memory, which hears of every change.
    with django_assert_num_queries(0):
        response = client.get("/")

    assert response.status_code == 200
    assert response.content.decode().count('<li class="event-item') == min(talks, 20)


def test_home_is_paginated(client, make_event):
    now = timezone.now()
    for day in range(25):
        make_event(title=f"Talk number {day:02}", start=now + datetime.timedelta(days=day + 1))

    first, second = client.get("/"), client.get("/?page=2")

    assert "Talk number 00" in html(first)
    assert "Talk number 19" in html(first)
    assert "Talk number 20" not in html(first)
    assert "Page 1 of 2" in html(first)
    assert 'href="?page=2"' in html(first)
    assert "Talk number 20" in html(second)
    assert "Talk number 24" in html(second)
    assert "Talk number 19" not in html(second)


@pytest.mark.parametrize("page", ["99", "abc", "-1", "0"])
def test_a_bad_page_number_is_a_404_not_a_crash(client, event, page):
    response = client.get(f"/?page={page}")
    assert response.status_code == 404


# The talk page


def test_the_talk_page_shows_an_uploaded_photo_and_loads_none_from_other_hosts(client, make_event, speaker):
    # photo_url is another host's image: the page's CSP would block it and the
    # visitor's address would go there; it stays for link previews only.
    speaker.photo_url = "https://www.cs.utexas.edu/photos/atlas-wang.jpg"
    speaker.save()
    event = make_event()

    page = html(client.get(f"/events/{event.slug}/"))

    assert 'src="https://www.cs.utexas.edu' not in page
    assert 'class="speaker__photo"' not in page
    assert 'content="https://www.cs.utexas.edu/photos/atlas-wang.jpg"' in page  # the link preview keeps it

    speaker.photo = SpeakerPhoto.objects.create(digest="a" * 64, data=b"jpeg", width=120, height=120)
    speaker.save()

    page = html(client.get(f"/events/{event.slug}/"))

    assert f'<img class="speaker__photo" src="/speakers/photos/{"a" * 64}.jpg"' in page


def test_talk_page_shows_everything_an_attendee_needs(client, make_event, venue, speaker):
    venue.address = "2317 Speedway, Austin, TX 78712"
    venue.map_url = "https://maps.example.com/gdc"
    venue.save()
    event = make_event(start=datetime.datetime(2031, 12, 1, 11, 0, tzinfo=CHICAGO))

    response = client.get(f"/events/{event.slug}/")
    page = html(response)

    assert response.status_code == 200
    assert "<h1" in page
    assert "Generating a Video: Reflecting on a Two-Year Odyssey" in page
    assert "Atlas Wang" in page
    assert "Associate Professor" in page
    assert "The University of Texas at Austin" in page
    assert speaker.bio in page
    assert "Monday, December 1, 2031, 11:00 AM – 12:00 PM CST" in page
    assert "GDC 6.302, Gates Dell Complex" in page
    assert "2317 Speedway, Austin, TX 78712" in page
    assert 'href="https://maps.example.com/gdc"' in page
    assert "<p>In this talk, I will recount" in page
    assert 'href="/series/ifml-seminar/"' in page
    assert f'href="/events/{event.slug}/event.ics"' in page
    assert 'id="registration-heading"' in page


def test_times_follow_daylight_saving_in_the_venue_time_zone(client, make_event):
    winter = make_event(start=datetime.datetime(2031, 1, 13, 11, 0, tzinfo=CHICAGO))
    summer = make_event(start=datetime.datetime(2031, 7, 14, 11, 0, tzinfo=CHICAGO))

    assert "Monday, January 13, 2031, 11:00 AM – 12:00 PM CST" in html(client.get(winter.get_absolute_url()))
    assert "Monday, July 14, 2031, 11:00 AM – 12:00 PM CDT" in html(client.get(summer.get_absolute_url()))


def test_times_are_shown_on_the_venue_clock_not_the_site_clock(client, make_event, venue, settings):
    settings.TIME_ZONE = "America/Chicago"
    venue.time_zone = "America/New_York"
    venue.save()
    event = make_event(start=datetime.datetime(2031, 1, 13, 11, 0, tzinfo=CHICAGO))

    page = html(client.get(event.get_absolute_url()))

    assert "Monday, January 13, 2031, 12:00 PM – 1:00 PM EST" in page


def test_script_in_a_title_is_shown_as_text(client, make_event):
    event = make_event(title='<script>alert("x")</script> Diffusion')

    page = html(client.get(event.get_absolute_url()))
    home = html(client.get("/"))

    for rendered in (page, home):
        assert "<script>alert" not in rendered
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Diffusion" in rendered


def test_abstract_is_escaped_text_in_paragraphs(client, make_event):
    event = make_event(abstract='First paragraph with <b onclick="x()">markup</b>.\n\nSecond paragraph.\nSame one.')

    page = html(client.get(event.get_absolute_url()))

    assert "<b onclick" not in page
    assert "&lt;b onclick=&quot;x()&quot;&gt;markup&lt;/b&gt;" in page
    assert "<p>First paragraph with" in page
    assert "<p>Second paragraph.<br>Same one.</p>" in page


def test_unicode_names_and_long_text_render(client, make_event):
    event = make_event(title="Ἀρχή — 王小明 و مرحبا שלום", abstract="Zoë Ñúñez " * 1000)
    event.speakers.add(Speaker.objects.create(name="مريم الحسيني", affiliation="אוניברסיטת תל אביב"))

    response = client.get(event.get_absolute_url())
    page = html(response)

    assert response.status_code == 200
    assert "Ἀρχή — 王小明 و مرحبا שלום" in page
    assert "مريم الحسيني" in page
    assert "אוניברסיטת תל אביב" in page
    assert page.count("Zoë Ñúñez") >= 1000


def test_cancelled_talk_says_so(client, make_event):
    event = make_event(status=Event.Status.CANCELLED)

    page = html(client.get(event.get_absolute_url()))
    home = html(client.get("/"))

    assert "This talk was cancelled" in page
    assert "ifml-seminar@example.edu" in page
    assert "Cancelled" in home


def test_cancelled_talk_page_says_why_escaped_with_its_line_breaks(client, event):
    cancel_event(event=event, note="The speaker is ill <b>today</b>.\nWe will reschedule in spring.")

    page = html(client.get(event.get_absolute_url()))

    assert "The speaker is ill &lt;b&gt;today&lt;/b&gt;.<br>We will reschedule in spring." in page


def test_a_talk_on_again_no_longer_shows_why_it_was_cancelled(client, event):
    cancel_event(event=event, note="The speaker is ill.")
    talk = Event.objects.get(pk=event.pk)
    talk.status = Event.Status.PUBLISHED
    talk.save()

    page = html(client.get(event.get_absolute_url()))

    assert "This talk was cancelled" not in page
    assert "The speaker is ill." not in page


def test_past_talk_page_says_it_already_took_place(client, make_event):
    event = make_event(start=timezone.now() - datetime.timedelta(days=2))
    assert "This talk has already taken place" in html(client.get(event.get_absolute_url()))


def test_draft_is_404_for_the_public(client, make_event, django_user_model):
    draft = make_event(status=Event.Status.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404

    client.force_login(django_user_model.objects.create_user("reader", password="pw-reader-1"))
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_draft_is_a_marked_preview_for_staff(staff_client, make_event):
    draft = make_event(title="Work in progress", status=Event.Status.DRAFT)

    response = staff_client.get(draft.get_absolute_url())

    assert response.status_code == 200
    assert "Work in progress" in html(response)
    assert "Draft preview" in html(response)
    assert f"/admin/events/event/{draft.pk}/change/" in html(response)
    assert 'content="noindex"' in html(response)


def test_published_talk_has_no_draft_banner(client, event):
    response = client.get(event.get_absolute_url())

    assert response.status_code == 200
    assert "Draft preview" not in html(response)


def test_unknown_talk_gets_the_site_404_page(client, db, settings):
    settings.DEBUG = False
    response = client.get("/events/no-such-talk/")
    assert response.status_code == 404
    assert "Page not found" in html(response)
    assert 'href="/events/past/"' in html(response)
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]


def test_unknown_series_is_404(client, db):
    assert client.get("/series/no-such-series/").status_code == 404


def test_registrants_never_appear_on_public_pages(client, event):
    from registrations.models import Registration

    Registration.objects.create(event=event, name="Zoë Ñúñez", email="zoe.private@example.edu", status="confirmed")

    for url in ("/", event.get_absolute_url(), event.series.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        page = html(response)
        assert event.title in page
        assert "Zoë Ñúñez" not in page
        assert "zoe.private@example.edu" not in page


# The series page


def test_series_page_splits_upcoming_and_past_talks(client, make_event, series):
    now = timezone.now()
    make_event(title="Coming up", start=now + datetime.timedelta(days=5))
    make_event(title="Done already", start=now - datetime.timedelta(days=5))
    make_event(title="Hidden draft", status=Event.Status.DRAFT)

    page = html(client.get(series.get_absolute_url()))

    assert "IFML Seminar" in page
    assert "IFML Organizers" in page
    upcoming, past = page.split('id="past-heading"')
    assert "Coming up" in upcoming
    assert "Done already" in past
    assert "Hidden draft" not in page


def test_series_page_shows_drafts_to_staff_marked_as_such(staff_client, make_event, series):
    make_event(title="Hidden draft", status=Event.Status.DRAFT)
    page = html(staff_client.get(series.get_absolute_url()))
    assert "Hidden draft" in page
    assert "Draft" in page


def test_series_page_query_count_does_not_grow(client, make_event, series, django_assert_num_queries):
    now = timezone.now()
    make_event(start=now + datetime.timedelta(days=1))
    make_event(start=now - datetime.timedelta(days=1))
    # The series, then talks and their speakers for each of the two lists, the past talks' materials.
    with django_assert_num_queries(6):
        client.get(series.get_absolute_url())
    for day in range(2, 12):
        make_event(start=now + datetime.timedelta(days=day))
        make_event(start=now - datetime.timedelta(days=day))
    with django_assert_num_queries(6):
        client.get(series.get_absolute_url())


def test_server_error_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong" in page
    assert 'href="/"' in page


def test_talk_under_way_says_it_is_happening_now(client, make_event):
    now = timezone.now()
    event = make_event(start=now - datetime.timedelta(minutes=10), end=now + datetime.timedelta(minutes=50))
    assert "This talk is happening now" in html(client.get(event.get_absolute_url()))


def test_lists_say_where_a_hybrid_or_online_talk_happens(client, make_event):
    make_event(title="Both ways", attendance_mode="hybrid")
    make_event(title="On screens", attendance_mode="online")

    page = " ".join(client.get("/").content.decode().split())

    assert "· GDC 6.302 and online" in page
    assert "· Online" in page

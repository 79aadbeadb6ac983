"""The archive (past talks): search by title, speaker and abstract, filters by series and year, pages."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from events.models import Event, Series, Speaker
from tests.html import page_text as text

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def archive(make_event, series):
    """Three past talks in two series and two years, a talk to come, a draft."""
    other = Series.objects.create(
        name="Theory Lunch", slug="theory-lunch", organizer_name="Theory", organizer_email="theory@example.edu"
    )
    perez = Speaker.objects.create(name="Ana Pérez Núñez", affiliation="UNAM")
    diffusion = make_event(
        title="Diffusion models for video",
        abstract="We study how generative models learn temporal coherence.",
        start=datetime.datetime(2025, 3, 4, 11, tzinfo=CHICAGO),
    )
    lattices = make_event(
        title="Retículos y criptografía",
        abstract="Una introducción a los retículos euclidianos y sus aplicaciones criptográficas.",
        series=other,
        start=datetime.datetime(2024, 10, 1, 11, tzinfo=CHICAGO),
    )
    lattices.speakers.set([perez])
    planning = make_event(
        title="Planning under uncertainty",
        abstract="Robots that plan while the world keeps changing.",
        start=datetime.datetime(2024, 2, 6, 11, tzinfo=CHICAGO),
    )
    make_event(title="A talk to come", abstract="Generative models again.", start=timezone.now() + 3 * DAY)
    make_event(
        title="Draft about generative models",
        status=Event.Status.DRAFT,
        start=timezone.now() - 3 * DAY,
    )
    return {"diffusion": diffusion, "lattices": lattices, "planning": planning, "other": other}


def found(client, language="en", **params) -> list[str]:
    response = client.get("/events/past/", params, headers={"accept-language": language})
    assert response.status_code == 200
    return [event.title for event in response.context["event_list"]]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_speakers_name_finds_their_talk_in_english_and_spanish_pages(client, archive, language):
    assert found(client, language, q="Atlas Wang") == ["Diffusion models for video", "Planning under uncertainty"]
    assert found(client, language, q="pérez") == ["Retículos y criptografía"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_word_of_the_abstract_finds_the_talk_in_english_and_spanish_pages(client, archive, language):
    assert found(client, language, q="coherence") == ["Diffusion models for video"]
    assert found(client, language, q="euclidianos") == ["Retículos y criptografía"]


def test_the_page_says_what_it_found_in_the_pages_language(client, archive):
    page = text(client.get("/events/past/", {"q": "coherence"}, headers={"accept-language": "es"}))
    assert "1 charla pasada encontrada." in page
    assert "Diffusion models for video" in page


def test_case_and_accents_do_not_matter(client, archive):
    assert found(client, q="PEREZ nunez") == ["Retículos y criptografía"]
    assert found(client, q="reticulos") == ["Retículos y criptografía"]
    assert found(client, q="DIFFUSION") == ["Diffusion models for video"]


def test_every_word_must_match_somewhere(client, archive):
    assert found(client, q="wang robots") == ["Planning under uncertainty"]
    assert found(client, q="wang criptografía") == []


def test_only_past_public_talks_are_searched(client, archive):
    # "generative" is also in a talk to come and in a draft.
    assert found(client, q="generative") == ["Diffusion models for video"]


def test_english_words_match_in_their_other_forms_on_postgresql(client, archive, require_postgres):
    assert found(client, q="generating") == ["Diffusion models for video"]
    assert found(client, q="plans") == ["Planning under uncertainty"]


def test_on_postgresql_a_match_in_the_title_ranks_above_one_in_the_abstract(
    client, archive, make_event, require_postgres
):
    make_event(
        title="Temporal logic",
        abstract="Nothing about coherence here, said twice: coherence.",
        start=datetime.datetime(2025, 5, 1, 11, tzinfo=CHICAGO),
    )
    make_event(title="Coherence", abstract="", start=datetime.datetime(2023, 1, 1, 11, tzinfo=CHICAGO))

    assert found(client, q="coherence")[0] == "Coherence"


def test_filtered_by_series_and_by_year(client, archive):
    assert found(client, series="theory-lunch") == ["Retículos y criptografía"]
    assert found(client, year="2024") == ["Retículos y criptografía", "Planning under uncertainty"]
    assert found(client, year="2024", series="ifml-seminar") == ["Planning under uncertainty"]
    assert found(client, q="wang", year="2025") == ["Diffusion models for video"]


def test_the_filters_offer_the_series_and_years_that_have_past_talks(client, archive):
    form = client.get("/events/past/").context["form"]
    assert [value for value, _label in form.fields["series"].choices] == ["", "ifml-seminar", "theory-lunch"]
    assert [value for value, _label in form.fields["year"].choices] == ["", 2025, 2024]


@pytest.mark.parametrize(
    "params",
    [
        {"series": "no-such-series"},
        {"year": "1066"},
        {"year": "twenty"},
        {"q": "x" * 10_000},
        {"q": "<script>alert(1)</script>"},
        {"q": "'; DROP TABLE events_event; --"},
        {"q": "a\r\nb\x00c"},
        {"q": '" OR 1=1 & !:* <->'},
    ],
)
def test_odd_input_is_answered_with_a_page_never_an_error(client, archive, params):
    response = client.get("/events/past/", params)

    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert Event.objects.count() == 5


def test_an_unknown_series_is_shown_as_an_error_and_ignored(client, archive):
    response = client.get("/events/past/", {"series": "no-such-series"})

    assert "Select a valid choice" in text(response)
    assert len(response.context["event_list"]) == 3


def test_pages_keep_the_search_and_filters(client, make_event):
    start = datetime.datetime(2024, 1, 1, 11, tzinfo=CHICAGO)
    for number in range(25):
        make_event(title=f"Old talk {number}", start=start + number * DAY)

    first = client.get("/events/past/", {"q": "recount", "year": "2024"})
    assert len(first.context["event_list"]) == 20
    assert 'href="?q=recount&amp;year=2024&amp;page=2"' in first.content.decode()

    second = client.get("/events/past/", {"q": "recount", "year": "2024", "page": "2"})
    assert [event.title for event in second.context["event_list"]] == [f"Old talk {n}" for n in range(4, -1, -1)]


def test_the_plain_archive_comes_from_the_page_cache_and_searches_do_not(client, archive, django_assert_num_queries):
    client.get("/events/past/")
    with django_assert_num_queries(0):  # the page and its token, from this worker's memory
        client.get("/events/past/")

    client.get("/events/past/", {"q": "wang"})
    response = client.get("/events/past/", {"q": "wang"})
    assert [event.title for event in response.context["event_list"]] == [
        "Diffusion models for video",
        "Planning under uncertainty",
    ]


def test_a_search_page_is_not_indexed_but_the_archive_is(client, archive):
    assert 'name="robots"' not in client.get("/events/past/").content.decode()
    assert '<meta name="robots" content="noindex">' in client.get("/events/past/", {"q": "wang"}).content.decode()


def test_each_past_talk_shows_its_public_materials_and_cached_pages_change_with_them(client, make_event):
    from materials import services as materials

    event = make_event(title="Diffusion models", start=timezone.now() - 3 * DAY)
    assert "Recording of the talk" not in text(client.get("/events/past/"))
    assert "Recording of the talk" not in text(client.get(event.get_absolute_url()))

    recording = materials.add_material(
        event=event, kind="recording", title="Recording of the talk", visibility="public", url="https://v.example.edu"
    )
    materials.add_material(
        event=event, kind="slides", title="Draft slides", visibility="staff", url="https://x.example.edu/draft"
    )

    for url in ("/events/past/", event.get_absolute_url(), event.series.get_absolute_url()):
        page = text(client.get(url))
        assert "Recording of the talk" in page
        assert "Draft slides" not in page

    recording.visibility = "registrants"
    recording.save()
    assert "Recording of the talk" not in text(client.get("/events/past/"))


def test_the_archives_queries_do_not_grow_with_its_talks_or_their_materials(
    client, make_event, django_assert_num_queries, settings
):
    from materials import services as materials

    settings.PAGE_CACHE = False  # what rendering the page costs

    def add_talks(count):
        for number in range(count):
            event = make_event(title=f"Talk {number}", start=timezone.now() - (number + 2) * DAY)
            event.speakers.add(Speaker.objects.create(name=f"Second speaker {number}"))
            materials.add_material(
                event=event, kind="slides", title="Slides", visibility="public", url="https://x.example.edu"
            )

    add_talks(1)
    # The series and the years to choose from, the count, the talks, their speakers, their materials.
    with django_assert_num_queries(6):
        client.get("/events/past/", {"q": "talk"})
    add_talks(25)
    with django_assert_num_queries(6):
        response = client.get("/events/past/", {"q": "talk"})
    assert len(response.context["event_list"]) == 20

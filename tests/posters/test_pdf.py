"""Posters read back as people and machines read them: the text in a PDF parser, the QR code from the printed page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from events import when
from events.models import Event, Series, SeriesMember, Speaker, SpeakerPhoto
from posters import pdf
from tests.qr import qr_codes
from tests.teams import member

from .conftest import drawn_in, heights, pdf_text, read_pdf, render

pytestmark = pytest.mark.django_db

POINTS = {"letter": (612, 792), "a4": (595, 842)}


@pytest.fixture
def talk(make_event, speaker):
    event = make_event(
        title="Generating a Video: Reflecting on a Two-Year Odyssey",
        abstract="In this talk, I will recount the developmental trajectory of video generation models. " * 30,
    )
    event.speakers.add(Speaker.objects.create(name="Zoë Núñez-Ångström", affiliation="Université de Montréal"))
    return event


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_the_poster_says_what_when_where_and_who_and_its_qr_code_opens_the_talk(talk, paper, tmp_path):
    content = pdf.talk_poster(talk, paper=paper)

    reader = read_pdf(content)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == POINTS[paper]
    text = pdf_text(content)
    assert "IFML Seminar" in text
    assert "Generating a Video: Reflecting on a Two-Year Odyssey" in text
    assert "Atlas Wang" in text and "Zoë Núñez-Ångström" in text and "Université de Montréal" in text
    moment = when.talk_when(talk)
    assert moment.endswith(("CST", "CDT")) and moment in text
    assert "GDC 6.302, Gates Dell Complex" in text
    assert "In this talk, I will recount" in text and "…" in text  # an excerpt, not the whole abstract

    page = render(content, tmp_path)
    assert qr_codes(page) == ["https://seminars.example.edu" + talk.get_absolute_url()]


def test_a_speaker_photo_is_printed(talk, speaker, tmp_path):
    from tests.speaker_edits.conftest import jpeg_bytes

    speaker.photo = SpeakerPhoto.objects.create(digest="a" * 64, data=jpeg_bytes((300, 300)), width=300, height=300)
    speaker.save()
    talk = Event.objects.prefetch_related("speakers__photo").get(pk=talk.pk)
    page = read_pdf(pdf.talk_poster(talk)).pages[0]
    assert len(page.images) == 1
    # Reddish photo, as uploaded, somewhere on the rendered page.
    rendered = render(pdf.talk_poster(talk), tmp_path).convert("RGB")
    assert any(r > 180 and 60 < g < 110 and b < 70 for r, g, b in rendered.get_flattened_data())


def test_drafts_and_cancelled_talks_say_so_on_the_poster(talk):
    Event.objects.filter(pk=talk.pk).update(status=Event.Status.DRAFT)
    talk.refresh_from_db()
    assert "DRAFT: not published yet" in pdf_text(pdf.talk_poster(talk))
    talk.status = Event.Status.CANCELLED
    assert "CANCELLED" in pdf_text(pdf.talk_poster(talk))


def test_a_long_title_and_an_online_talk_still_fit_one_page(make_event, tmp_path):
    event = make_event(
        title=("Very long title " * 18).strip(), attendance_mode="online", venue=None, abstract="x " * 3000
    )
    content = pdf.talk_poster(event, paper="a4")
    assert len(read_pdf(content).pages) == 1
    assert "Online" in pdf_text(content)
    assert qr_codes(render(content, tmp_path)) == ["https://seminars.example.edu" + event.get_absolute_url()]


def test_a_panel_of_speakers_with_photos_leaves_the_time_and_place_above_the_qr_code(talk, speaker, tmp_path):
    from tests.speaker_edits.conftest import jpeg_bytes

    photo = SpeakerPhoto.objects.create(digest="c" * 64, data=jpeg_bytes((300, 300)), width=300, height=300)
    Speaker.objects.update(photo=photo, position="Associate Professor")
    for n in range(3):
        talk.speakers.add(Speaker.objects.create(name=f"Panelist {n}", affiliation="Stanford University", photo=photo))
    talk = Event.objects.prefetch_related("speakers__photo").get(pk=talk.pk)

    content = pdf.talk_poster(talk)

    assert len(read_pdf(content).pages) == 1
    # The line above the footer (its caption and the QR code) is 2.85 inches above the page's foot.
    footer = 2.85 * 72
    placed = heights(content)
    for text in ("Atlas Wang", "Zoë Núñez-Ångström", "Panelist 2", "GDC 6.302"):
        assert next(height for piece, height in placed if text in piece) > footer, text
    when_line = when.talk_when(talk).split(",")[0]
    assert next(height for piece, height in placed if when_line in piece) > footer
    assert qr_codes(render(content, tmp_path)) == ["https://seminars.example.edu" + talk.get_absolute_url()]


def test_the_term_page_lists_the_published_talks_of_its_dates(make_event, series, tmp_path):
    start = timezone.now() + datetime.timedelta(days=2)
    talks = [make_event(title=f"Talk number {n}", start=start + datetime.timedelta(days=7 * n)) for n in range(5)]
    make_event(title="Secret draft", status=Event.Status.DRAFT, start=start)
    make_event(title="Much later", start=start + datetime.timedelta(days=400))
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    make_event(series=other, title="Other series talk", start=start)

    events = Event.objects.filter(series=series).published().filter(start__lt=start + datetime.timedelta(days=60))
    content = pdf.term_poster(series, events, start=start.date(), end=(start + datetime.timedelta(days=60)).date())

    text = pdf_text(content)
    for event in talks:
        assert event.title in text and "Atlas Wang" in text
    assert "Secret draft" not in text and "Much later" not in text and "Other series talk" not in text
    assert qr_codes(render(content, tmp_path)) == ["https://seminars.example.edu" + series.get_absolute_url()]


def test_the_term_page_gives_each_date_its_year_when_the_dates_run_into_the_next(make_event, series):
    december = timezone.make_aware(datetime.datetime(2027, 12, 17, 15, 30))
    talks = [make_event(title=f"Talk {n}", start=december + datetime.timedelta(days=14 * n)) for n in range(2)]
    within = Event.objects.filter(pk=talks[0].pk)

    across = pdf_text(
        pdf.term_poster(
            series, Event.objects.filter(series=series), start=december.date(), end=datetime.date(2028, 1, 31)
        )
    )
    one_year = pdf_text(pdf.term_poster(series, within, start=december.date(), end=datetime.date(2027, 12, 31)))

    assert "Fri 17 Dec 2027" in across and "Fri 31 Dec 2027" in across
    assert "Fri 17 Dec" in one_year and "Fri 17 Dec 2027" not in one_year


def test_chinese_japanese_and_korean_print_as_typed_in_a_font_that_has_them(make_event, series, tmp_path):
    # DejaVu Sans, the posters' font, has none of these characters: set in it, they printed as empty boxes.
    chinese = make_event(
        title="机器学习的基础：从线性模型到深度网络", abstract="本次讲座介绍<script>机器学习</script>。"
    )
    chinese.speakers.add(Speaker.objects.create(name="李飞飞 (Fei-Fei Li)", affiliation="Stanford University"))
    japanese = make_event(title="機械学習のための最適化", start=chinese.start + datetime.timedelta(days=7))
    japanese.speakers.add(Speaker.objects.create(name="山田 太郎", affiliation="東京大学"))
    korean = make_event(title="Optimization, 최적화", start=chinese.start + datetime.timedelta(days=14))
    korean.speakers.add(Speaker.objects.create(name="김철수", affiliation="KAIST"))

    content = pdf.talk_poster(chinese)
    # The title wraps between characters, as CJK text does: no spaces to break at.
    assert "机器学习的基础：从线性模型到深度网络" in pdf_text(content).replace(" ", "")
    assert "本次讲座介绍<script>机器学习</script>。" in pdf_text(content)
    title = [font for text, font in drawn_in(content) if text in chinese.title]
    assert title and set(title) == {"STSong-Light"}
    pieces = dict(drawn_in(content))
    assert pieces["李飞飞"] == "STSong-Light"
    assert pieces["(Fei-Fei Li)"] == "DejaVuSans-Bold" and pieces["Stanford University"] == "DejaVuSans"
    assert qr_codes(render(content, tmp_path)) == ["https://seminars.example.edu" + chinese.get_absolute_url()]

    # Han characters are Japanese next to kana, also in a name that has none of its own.
    japanese = Event.objects.get(pk=japanese.pk)
    pieces = dict(drawn_in(pdf.talk_poster(japanese)))
    assert pieces["機械学習のための最適化"] == "HeiseiKakuGo-W5"
    assert pieces["東京大学"] == "STSong-Light"  # alone, nothing says Japanese: the Chinese face has them too

    events = Event.objects.filter(pk__in=[chinese.pk, japanese.pk, korean.pk]).order_by("start")
    content = pdf.term_poster(series, events, start=chinese.start.date(), end=korean.start.date())
    pieces = drawn_in(content)
    assert ("최적화", "HYGothic-Medium") in pieces and ("김철수", "HYGothic-Medium") in pieces
    assert ("Optimization,", "DejaVuSans-Bold") in pieces
    assert "山田 太郎" in pdf_text(content)


def test_organizers_get_their_posters_others_a_404(client, talk, series):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    client.force_login(member(series, "ana"))
    response = client.get(reverse("posters:talk", args=[talk.pk]) + "?paper=a4")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Generating a Video" in pdf_text(response.content)
    assert client.get(reverse("posters:talk", args=[talk.pk]) + "?paper=tabloid").status_code == 404
    assert client.get(reverse("posters:series", args=[series.pk])).status_code == 200
    term = client.get(
        reverse("posters:term", args=[series.pk]), {"start": "2026-01-01", "end": "2026-12-31", "paper": "letter"}
    )
    assert term.status_code == 200 and term["Content-Type"] == "application/pdf"
    bad = client.get(reverse("posters:term", args=[series.pk]), {"start": "2026-12-31", "end": "2026-01-01"})
    assert bad.status_code == 400 and "The end date comes before the start date." in bad.content.decode()

    for user in (member(other, "bo"), member(series, "door", role=SeriesMember.Role.DOOR)):
        client.force_login(user)
        assert client.get(reverse("posters:talk", args=[talk.pk])).status_code == 404
        assert client.get(reverse("posters:series", args=[series.pk])).status_code == 404


def test_a_cancelled_talk_is_offered_no_poster_even_after_a_wrong_term(client, talk, make_event, series):
    make_event(title="Called off, no poster", slug="called-off", status=Event.Status.CANCELLED)
    client.force_login(member(series, "ana"))

    page = client.get(reverse("posters:series", args=[series.pk])).content.decode()
    wrong = client.get(reverse("posters:term", args=[series.pk]), {"start": "2026-12-31", "end": "2026-01-01"})

    assert wrong.status_code == 400
    for html in (page, wrong.content.decode()):
        assert "Generating a Video" in html and "Called off, no poster" not in html

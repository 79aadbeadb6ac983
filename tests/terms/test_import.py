"""Importing a term: a preview of every row, errors by row and column, all or nothing, drafts by default."""

import datetime
import io
import threading
import zoneinfo

import icalendar
import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from events.models import Event, Series, SeriesMember, Speaker, Venue
from terms import services
from terms.reading import Row, read
from tests.teams import member

from .conftest import csv_bytes, term_rows

pytestmark = pytest.mark.django_db
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def test_a_12_row_csv_creates_12_drafts(upload, confirm, series, venue, speaker):
    preview = upload(csv_bytes(term_rows(12)))

    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert [row.action for row in plan.rows] == ["create"] * 12
    html = preview.content.decode()
    assert "12 to create, 0 to change, 0 unchanged." in html
    assert not Event.objects.exists(), "a preview writes nothing"

    response = confirm(preview)

    assert response.status_code == 302
    talks = list(Event.objects.order_by("start"))
    assert len(talks) == 12
    assert {talk.status for talk in talks} == {Event.Status.DRAFT}
    first = talks[0]
    assert first.title == "Talk 1: learning, at scale"
    assert first.local_start == datetime.datetime(2027, 1, 19, 11, 0, tzinfo=CHICAGO)
    assert first.local_end == datetime.datetime(2027, 1, 19, 12, 0, tzinfo=CHICAGO)
    assert first.venue == venue and first.capacity == venue.default_capacity
    assert list(first.speakers.all()) == [speaker]
    assert first.series == series
    assert len({talk.slug for talk in talks}) == 12


def test_one_bad_row_imports_nothing_and_names_its_row_and_column(upload, series):
    rows = term_rows(12)
    rows[5]["date"] = "2027-02-30"
    preview = upload(csv_bytes(rows))

    assert preview.status_code == 200
    assert preview.context["payload"] == "", "no import is offered"
    html = preview.content.decode()
    assert "1 problem: nothing will be imported until every row is valid." in html
    # Row 7 of the spreadsheet (the header is row 1), column A: the date.
    assert "Row 7, column A (date): Write the date as 2027-01-19." in html
    assert 'name="confirm"' not in html

    with pytest.raises(services.TermImportError) as raised:
        services.import_term(series=series, rows=read("term.csv", csv_bytes(rows))[1])
    assert [(number, problem.place, problem.column) for number, problem in raised.value.plan.problems] == [
        (7, "A", "date")
    ]
    assert str(raised.value) == "Nothing was imported: 1 problems."
    assert raised.value.code == "invalid_rows"
    assert not Event.objects.exists()


def test_every_kind_of_problem_names_its_place(upload, series):
    rows = term_rows(6)
    rows[0]["start"] = "25:00"
    rows[1]["room"] = "Nowhere 1.1"
    rows[2]["speakers"] = "Ada Unknown"
    rows[3]["title"] = ""
    rows[4]["capacity"] = "many"
    rows[5]["end"] = "10:00"
    problems = upload(csv_bytes(rows)).context["plan"].problems
    assert [(number, problem.place) for number, problem in problems] == [
        (2, "B"),
        (3, "G"),
        (4, "E"),
        (5, "D"),
        (6, "I"),
        (7, "C"),
    ]


def test_a_time_the_clocks_skip_is_refused_naming_its_row_and_time(upload):
    # 2027-03-14 in Chicago: the clocks go from 2:00 AM CST to 3:00 AM CDT; 2:30 was read as 3:30.
    rows = term_rows(3)
    rows[1].update(date="2027-03-14", start="2:30 AM", end="4:00 AM")
    rows[2].update(date="2027-03-14", start="10:00", end="11:00", registration_opens="2027-03-14 02:15")
    preview = upload(csv_bytes(rows))

    assert preview.context["payload"] == "", "no import is offered"
    html = preview.content.decode()
    assert (
        "Row 3, column B (start): 02:30 does not exist on that day (2027-03-14): the clocks go forward from CST to "
        "CDT. Write the time as it will be shown on the clocks."
    ) in html
    assert "Row 4, column K (registration_opens): 02:15 does not exist on that day (2027-03-14)" in html
    assert [(number, problem.column) for number, problem in preview.context["plan"].problems] == [
        (3, "start"),
        (4, "registration_opens"),
    ]


def test_a_time_in_the_repeated_hour_is_the_first_and_the_preview_says_so(upload, confirm):
    # 2027-11-07 in Chicago: 1:00 to 2:00 AM comes twice, first on CDT, then on CST.
    rows = term_rows(1, date="2027-11-07", start="1:30 AM", end="3:00 AM")
    preview = upload(csv_bytes(rows))

    html = preview.content.decode()
    assert (
        "B: 01:30 comes twice on 2027-11-07 (the clocks go back): read as the first, 1:30 AM CDT, not 1:30 AM CST."
        in (html)
    )
    confirm(preview)
    talk = Event.objects.get()
    assert talk.start == datetime.datetime(2027, 11, 7, 6, 30, tzinfo=datetime.UTC)
    assert talk.end - talk.start == datetime.timedelta(hours=2, minutes=30)


def test_blank_lines_of_a_csv_keep_the_row_numbers_a_spreadsheet_shows(upload):
    # Rows 2 and 4 are blank, row 3 fine, row 5 short of its last cells, row 6 wrong.
    content = (
        b"date,start,title,room,abstract\r\n\r\n2027-01-19,11:00,First,GDC 6.302,\r\n\r\n"
        b"2027-01-26,11:00,Second\r\n2027-02-30,11:00,Third,GDC 6.302,An abstract\r\n"
    )
    preview = upload(content)

    assert [row.row.number for row in preview.context["plan"].rows] == [3, 5, 6]
    assert "Row 6, column A (date): Write the date as 2027-01-19." in preview.content.decode()


def test_an_unquoted_comma_in_a_csv_names_its_rows_and_the_cure(upload):
    content = (
        b"date,start,title,room\n2027-01-19,11:00,Learning, at scale,GDC 6.302\n"
        b'2027-01-26,11:00,"Quoted, as it should be",GDC 6.302\n2027-02-02,11:00,Zo\xc3\xab, again,GDC 6.302\n'
    )
    response = upload(content)

    assert response.status_code == 400
    assert (
        "Rows 2, 4 have more cells than the first row has columns: a cell with a comma in it "
        "(a title, a list of names) needs double quotes around it."
    ) in response.content.decode()
    assert not Event.objects.exists()


def test_a_csv_separated_by_semicolons_or_tabs_imports(upload, confirm, series, venue, speaker):
    # Excel in Spanish or German saves "CSV" with semicolons (the comma is their decimal mark); some tools use tabs.
    for delimiter in (";", "\t"):
        Event.objects.all().delete()
        rows = term_rows(2, speakers="Atlas Wang; Ada Lovelace", affiliations="The University of Texas at Austin; ")
        preview = upload(csv_bytes(rows, delimiter=delimiter), create_missing=True)

        assert preview.status_code == 200, preview.content.decode()
        assert [row.action for row in preview.context["plan"].rows] == ["create", "create"]
        confirm(preview)
        first = Event.objects.order_by("start").first()
        assert first.title == "Talk 1: learning, at scale"
        assert [person.name for person in first.speakers.order_by("name")] == ["Ada Lovelace", "Atlas Wang"]
        assert first.local_start == datetime.datetime(2027, 1, 19, 11, 0, tzinfo=CHICAGO)


def test_a_semicolon_csv_with_an_unquoted_list_names_the_semicolon(upload):
    content = b"date;start;title;speakers;room\n2027-01-19;11:00;First;Atlas Wang; Ada Lovelace;GDC 6.302\n"
    response = upload(content)

    assert response.status_code == 400
    assert (
        "Row 2 has more cells than the first row has columns: a cell with a semicolon in it "
        "(a list of names) needs double quotes around it."
    ) in response.content.decode()


def test_a_csv_whose_first_row_names_no_column_is_refused_clearly(upload):
    response = upload(b"Fecha|Hora|Titulo\n2027-01-19|11:00|Primera\n")

    assert response.status_code == 400
    assert (
        "The first row of the CSV file names none of the columns (date, start, end, title, speakers, "
        "affiliations, room, building, capacity, attendance, registration_opens, status, slug, abstract), "
        "whether separated by commas, semicolons or tabs: copy the first row of the template."
    ) in response.content.decode()
    assert not Event.objects.exists()


def test_a_column_named_twice_is_refused_not_half_read(upload):
    response = upload(b"date,start,title,room,Title\n2027-01-19,11:00,Draft title,GDC 6.302,Final title\n")

    assert response.status_code == 400
    assert "Columns named twice: title." in response.content.decode()


def test_speakers_and_rooms_not_found_are_created_only_when_asked(upload, confirm, series):
    rows = term_rows(2, speakers="José Ñúñez, Jr.; Ada Lovelace", affiliations="UNAM; ", room="POB 2.402")
    rows[0]["capacity"] = "25"
    rows[1]["capacity"] = "25"
    assert not upload(csv_bytes(rows)).context["plan"].ok

    preview = upload(csv_bytes(rows), create_missing=True)
    assert preview.context["plan"].ok
    assert "New: 2 speakers, 1 rooms." in preview.content.decode()
    confirm(preview)

    assert Venue.objects.filter(room="POB 2.402", default_capacity=25).count() == 1
    jose = Speaker.objects.get(name="José Ñúñez, Jr.")
    assert jose.affiliation == "UNAM"
    assert Speaker.objects.filter(name="Ada Lovelace").count() == 1
    for talk in Event.objects.all():
        assert [speaker.name for speaker in talk.speakers.order_by("name")] == ["Ada Lovelace", "José Ñúñez, Jr."]


def test_speakers_whose_names_have_accented_capitals_are_found_again(upload, confirm, series, venue):
    rows = term_rows(1, speakers="Åsa Öberg; Élodie Ürgüp", affiliations="KTH; ")
    confirm(upload(csv_bytes(rows), create_missing=True))

    # The next term, as typed by someone else: the same people, found without "create" ticked.
    again = term_rows(2, speakers="Åsa Öberg; élodie ürgüp", affiliations="KTH")
    preview = upload(csv_bytes(again[1:]))

    assert preview.context["plan"].ok, preview.context["plan"].problems
    assert Speaker.objects.filter(name__in=["Åsa Öberg", "Élodie Ürgüp"]).count() == 2
    assert [ref.speaker.name for ref in preview.context["plan"].rows[0].speakers] == ["Åsa Öberg", "Élodie Ürgüp"]


def test_an_xlsx_file_imports(upload, confirm, series):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Date", "Start", "Title", "Speakers", "Room"])
    sheet.append([datetime.date(2027, 1, 19), datetime.time(11, 0), "From Excel", "Atlas Wang", "GDC 6.302"])
    sheet.append([datetime.datetime(2027, 1, 26), "3:30 PM", "Second <script>alert(1)</script>", "", "GDC 6.302"])
    out = io.BytesIO()
    book.save(out)

    preview = upload(out.getvalue(), name="spring.xlsx")
    assert "&lt;script&gt;" in preview.content.decode()
    confirm(preview)

    first, second = Event.objects.order_by("start")
    assert first.title == "From Excel" and first.local_start.hour == 11
    assert first.end - first.start == datetime.timedelta(minutes=series.default_duration_minutes)
    assert second.local_start == datetime.datetime(2027, 1, 26, 15, 30, tzinfo=CHICAGO)
    assert second.title == "Second <script>alert(1)</script>" and not second.speakers.exists()


def test_an_ics_file_imports(upload, confirm, series, venue):
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Another calendar//EN")
    calendar.add("version", "2.0")
    for n, start in enumerate(
        (
            datetime.datetime(2027, 1, 19, 17, 0, tzinfo=datetime.UTC),
            datetime.datetime(2027, 3, 16, 11, 0, tzinfo=CHICAGO),
        )
    ):
        event = icalendar.Event()
        event.add("uid", f"talk-{n}@example.edu")
        event.add("summary", f"Calendar talk {n}")
        event.add("dtstart", start)
        event.add("dtend", start + datetime.timedelta(minutes=75))
        event.add("location", "GDC 6.302, Gates Dell Complex, 2317 Speedway")
        event.add("description", "An abstract,\nover two lines.")
        calendar.add_component(event)

    preview = upload(calendar.to_ical(), name="term.ics")
    assert preview.context["file_format"] == "iCalendar (.ics)"
    confirm(preview)

    first, second = Event.objects.order_by("start")
    assert first.title == "Calendar talk 0" and first.local_start == datetime.datetime(
        2027, 1, 19, 11, 0, tzinfo=CHICAGO
    )
    assert second.local_start == datetime.datetime(2027, 3, 16, 11, 0, tzinfo=CHICAGO)  # after the DST change
    assert second.end - second.start == datetime.timedelta(minutes=75)
    assert first.venue == venue and first.abstract == "An abstract,\nover two lines."
    assert first.status == Event.Status.DRAFT


def test_an_ics_error_names_the_line_and_property(upload):
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Fine\r\n"
        "DTSTART:20270119T170000Z\r\nLOCATION:GDC 6.302\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\n"
        "DTSTART;VALUE=DATE:20270126\r\nSUMMARY:No time\r\nLOCATION:GDC 6.302\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    html = upload(text.encode(), name="term.ics").content.decode()
    assert "Row 10, column DTSTART (start): A talk needs a start time." in html


def _calendar(*entries: str) -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@example.edu\r\nLOCATION:GDC 6.302\r\n{entry}END:VEVENT\r\n"
        for n, entry in enumerate(entries)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()


def test_an_ics_entry_with_a_duration_keeps_its_length(upload, confirm, venue):
    content = _calendar(
        "SUMMARY:Ninety minutes\r\nDTSTART;TZID=America/Chicago:20270119T110000\r\nDURATION:PT1H30M\r\n"
    )

    confirm(upload(content, name="term.ics"))

    talk = Event.objects.get()
    assert talk.local_start == datetime.datetime(2027, 1, 19, 11, 0, tzinfo=CHICAGO)
    assert talk.local_end == datetime.datetime(2027, 1, 19, 12, 30, tzinfo=CHICAGO)


def test_a_cancelled_ics_entry_is_not_imported_as_a_talk(upload, make_event):
    content = _calendar(
        "SUMMARY:Going ahead\r\nDTSTART:20270119T170000Z\r\nDTEND:20270119T180000Z\r\n",
        "SUMMARY:Called off\r\nSTATUS:CANCELLED\r\nDTSTART:20270126T170000Z\r\nDTEND:20270126T180000Z\r\n",
    )

    preview = upload(content, name="term.ics")

    assert preview.context["payload"] == ""
    assert "Row 11, column STATUS (status): A new talk cannot be cancelled: leave it out." in preview.content.decode()
    assert not Event.objects.exists()


def test_a_repeating_ics_entry_is_refused_rather_than_read_as_its_first_talk(upload):
    content = _calendar(
        "SUMMARY:Weekly seminar\r\nDTSTART;TZID=America/Chicago:20270119T110000\r\n"
        "DTEND;TZID=America/Chicago:20270119T120000\r\nRRULE:FREQ=WEEKLY;COUNT=12\r\n"
    )

    response = upload(content, name="term.ics")

    assert response.status_code == 400
    assert (
        "The entry at line 4 repeats (RRULE): give each talk its own calendar entry, or use the spreadsheet template."
    ) in response.content.decode()
    assert not Event.objects.exists()


def test_a_row_with_a_known_slug_changes_that_talk(upload, confirm, make_event):
    talk = make_event(title="Old title", slug="known-talk", status=Event.Status.DRAFT)
    local = talk.local_start
    row = term_rows(1)[0] | {
        "slug": "known-talk",
        "title": "New title",
        "date": local.date().isoformat(),
        "start": local.strftime("%H:%M"),
        "end": talk.local_end.strftime("%H:%M"),
    }
    preview = upload(csv_bytes([row]))
    (plan_row,) = preview.context["plan"].rows
    assert plan_row.action == "update"
    assert ("title", "Old title", "New title") in plan_row.changes
    confirm(preview)
    talk.refresh_from_db()
    assert talk.title == "New title" and Event.objects.count() == 1


def test_a_row_at_the_time_of_a_cancelled_talk_is_its_replacement(upload, confirm, make_event):
    start = datetime.datetime(2027, 1, 19, 11, 0, tzinfo=CHICAGO)
    cancelled = make_event(title="Called off", slug="called-off", start=start, status=Event.Status.CANCELLED)
    preview = upload(csv_bytes(term_rows(1, title="The talk in its place")))

    (plan_row,) = preview.context["plan"].rows
    assert plan_row.action == "create"
    confirm(preview)

    cancelled.refresh_from_db()
    assert (cancelled.title, cancelled.status) == ("Called off", Event.Status.CANCELLED)
    replacement = Event.objects.exclude(pk=cancelled.pk).get()
    assert replacement.title == "The talk in its place" and replacement.start == start


def test_moving_a_talk_people_registered_for_is_left_to_its_page(upload, make_event, sign_up):
    talk = make_event(slug="busy")
    sign_up(talk)
    row = term_rows(1)[0] | {"slug": "busy"}
    (plan_row,) = upload(csv_bytes([row])).context["plan"].rows
    assert plan_row.action == "error"
    assert "1 people registered" in plan_row.problems[0].message


def test_a_tampered_preview_imports_nothing(client, upload, series):
    preview = upload(csv_bytes(term_rows(2)))
    payload = preview.context["payload"]
    response = client.post(
        reverse("terms:import", args=[series.pk]), {"rows": payload[:-2] + "xx", "confirm": "1"}, follow=True
    )
    assert "This preview expired or was changed" in response.content.decode()
    assert not Event.objects.exists()


def test_a_preview_cannot_be_replayed_into_another_series(client, upload, series, confirm):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    member(other, "ana")
    preview = upload(csv_bytes(term_rows(2)))
    client.post(reverse("terms:import", args=[other.pk]), {"rows": preview.context["payload"], "confirm": "1"})
    assert not Event.objects.exists()


def test_files_that_are_not_a_term_are_refused_with_a_reason(upload):
    cases = [
        (b"\xff\xfe\x00garbage", "term.csv", "not UTF-8"),
        (b"date,start,colour\n2027-01-19,11:00,red\n", "term.csv", "Unknown columns: colour."),
        (b"date,start\n2027-01-19,11:00\n", "term.csv", "Columns missing: title."),
        (b"title,date,start\n", "term.csv", "The file has no talks in it."),
        (b"PK\x03\x04broken", "term.xlsx", "cannot be read"),
        (b"BEGIN:VCALENDAR\nBROKEN", "term.ics", "cannot be read"),
        # A NUL: a damaged file, or UTF-16 without its mark (PostgreSQL would refuse to store or look it up).
        (csv_bytes(term_rows(1, speakers="Atlas\x00 Wang")), "term.csv", "The CSV file is not UTF-8 text"),
        (csv_bytes(term_rows(1)).decode().encode("utf-16-le"), "term.csv", "The CSV file is not UTF-8 text"),
        (_calendar("SUMMARY:Nul\x00\r\nDTSTART:20270119T170000Z\r\n"), "term.ics", "is not UTF-8 text"),
    ]
    for content, name, message in cases:
        response = upload(content, name=name)
        assert response.status_code == 400, name
        assert message in response.content.decode(), message
    assert not Event.objects.exists()


def test_only_the_series_organizers_import(client, series):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    for user in (member(other, "bo"), member(series, "door", role=SeriesMember.Role.DOOR)):
        client.force_login(user)
        assert client.get(reverse("terms:import", args=[series.pk])).status_code == 404
        assert client.get(reverse("terms:export", args=[series.pk])).status_code == 404


def test_rows_survive_the_round_trip_through_the_signed_form():
    row = Row(3, {"title": "Zoë"}, {"title": "D"})
    assert Row.from_data(row.as_data()) == row


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_confirmed_twice_at_once_creates_each_talk_once(require_postgres, series, venue, speaker):
    # A double click on "Import these talks": two requests with the same rows, at the same moment.
    rows = read("term.csv", csv_bytes(term_rows(3)))[1]
    barrier = threading.Barrier(4)
    errors = []

    def confirm():
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            services.import_term(series=series, rows=rows)
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(Event.objects.values_list("title", flat=True)) == [f"Talk {n}: learning, at scale" for n in (1, 2, 3)]

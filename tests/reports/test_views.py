"""The numbers pages: figures equal counts from the database, charts are real SVG, CSVs match the tables."""

import csv
import datetime
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Series, SeriesMember
from registrations import services
from registrations.models import Registration

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def move_to_past(event, days):
    start = timezone.now() - datetime.timedelta(days=days)
    Event.objects.filter(pk=event.pk).update(start=start, end=start + datetime.timedelta(hours=1))
    event.refresh_from_db()


@pytest.fixture
def term(make_event, sign_up):
    """Three talks that are over and one to come, with every kind of registration."""
    talks = [make_event(title=f"Talk {n}", slug=f"talk-{n}", capacity=3) for n in range(1, 5)]
    people = [
        ("Ana", "ana@ut.edu", "UT Austin", "student"),
        ("Bo", "bo@ut.edu", "UT Austin", "faculty"),
        ("Cy", "cy@rice.edu", "Rice $x^2$ <script>", "postdoc"),
        ("Di", "di@tamu.edu", "", ""),
        ("Ed", "ed@tamu.edu", "Texas A&M", "industry"),
    ]
    for index, talk in enumerate(talks):
        regs = [
            sign_up(talk, name=name, email=email, affiliation=affiliation, position=position)
            for name, email, affiliation, position in people[: 3 + index % 3]
        ]
        if index < 3:
            for registration in regs[: 1 + index]:
                if registration.status == Registration.Status.CONFIRMED:
                    services.check_in(registration=registration)
        services.cancel_registration(registration=regs[-1])
    # The talk to come has a seat held until its person confirms by email.
    sign_up(talks[3], name="Fa", email="fa@ut.edu", signups_from_address=11)
    services.erase_personal_data(registrations=Registration.objects.filter(email="bo@ut.edu"))
    for days, talk in zip((30, 20, 10), talks[:3], strict=True):
        move_to_past(talk, days)
    return talks


def db_counts(registrations):
    return {
        "registered": registrations.count(),
        "confirmed": registrations.filter(status="confirmed").count(),
        "held": registrations.filter(status="held").count(),
        "waitlisted": registrations.filter(status="waitlisted").count(),
        "cancelled": registrations.filter(status="cancelled").count(),
        "checked_in": registrations.filter(status="confirmed", checked_in_at__isnull=False).count(),
    }


def test_talk_page_figures_equal_database_counts(admin_client, term):
    for talk in term:
        response = admin_client.get(reverse("reports:event", args=[talk.pk]))
        assert response.status_code == 200
        summary = response.context["summary"]
        expected = db_counts(Registration.objects.filter(event=talk))
        assert {key: summary[key] for key in expected} == expected
        for key, value in expected.items():
            assert f'data-figure="{key}">{value}<' in response.content.decode()


def test_no_shows_are_counted_once_the_talk_is_over(admin_client, term):
    over, upcoming = term[2], term[3]
    confirmed = Registration.objects.filter(event=over, status="confirmed")
    missing = confirmed.filter(checked_in_at__isnull=True).count()

    summary = admin_client.get(reverse("reports:event", args=[over.pk])).context["summary"]
    later = admin_client.get(reverse("reports:event", args=[upcoming.pk])).context["summary"]

    assert summary["no_shows"] == missing
    assert summary["no_show_rate"] == pytest.approx(missing / confirmed.count())
    assert later["no_shows"] is None


def test_series_page_figures_equal_database_counts(admin_client, term, series):
    response = admin_client.get(reverse("reports:series", args=[series.pk]))

    assert response.status_code == 200
    expected = db_counts(Registration.objects.filter(event__series=series))
    assert {key: response.context["summary"][key] for key in expected} == expected
    past = db_counts(Registration.objects.filter(event__series=series, event__end__lte=timezone.now()))
    assert {key: response.context["past_summary"][key] for key in past} == past
    for talk in response.context["talks"]:
        counts = db_counts(Registration.objects.filter(event=talk))
        assert {key: getattr(talk, key) for key in counts} == counts


def test_attendance_per_talk_lists_the_talks_that_took_place(admin_client, term, series, make_event):
    cancelled = make_event(title="Called off", start=timezone.now() - datetime.timedelta(days=5))
    Event.objects.filter(pk=cancelled.pk).update(status=Event.Status.CANCELLED)

    response = admin_client.get(reverse("reports:series", args=[series.pk]))

    attendance = next(t for t in response.context["tables"] if t.slug == "attendance")
    assert [row[0] for row in attendance.rows] == [talk.title for talk in term[:3]]
    assert term[3].local_start.date().isoformat() not in attendance.description
    checked_in = [
        Registration.objects.filter(event=talk, status="confirmed", checked_in_at__isnull=False).count()
        for talk in term[:3]
    ]
    assert [row[3] for row in attendance.rows] == checked_in


def test_erased_registrations_still_count(admin_client, term, series):
    erased = Registration.objects.filter(event__series=series, erased_at__isnull=False)
    assert erased.exists()

    response = admin_client.get(reverse("reports:series", args=[series.pk]))

    assert response.context["summary"]["registered"] == Registration.objects.filter(event__series=series).count()
    affiliations = next(t for t in response.context["tables"] if t.slug == "affiliations")
    assert sum(row[1] for row in affiliations.rows) == Registration.objects.filter(event__series=series).count()


def chart_urls(response, name, owner):
    return {table.slug: reverse(name, args=[owner.pk, table.slug]) for table in response.context["tables"]}


@pytest.mark.parametrize("page", ["event", "series"])
def test_every_chart_is_well_formed_svg_with_title_and_desc(admin_client, term, series, page):
    owner = term[0] if page == "event" else series
    response = admin_client.get(reverse(f"reports:{page}", args=[owner.pk]))

    for table in response.context["tables"]:
        svg = admin_client.get(reverse(f"reports:{page}_chart", args=[owner.pk, table.slug]))
        if not table.has_chart:  # a table of texts (feedback comments) has none
            assert svg.status_code == 404
            continue
        assert svg.status_code == 200
        assert svg["Content-Type"].startswith("image/svg+xml")
        root = ET.fromstring(svg.content)  # noqa: S314 (the test parses what we serve)
        assert root.tag == f"{SVG}svg"
        title, desc = root[0], root[1]
        assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
        assert title.text == str(table.title)
        assert len(root.findall(f"{SVG}title")) == 1
        assert desc.text == str(table.description) and desc.text
        assert root.get("aria-labelledby") == f"{table.slug}-title {table.slug}-desc"
        assert b"<script" not in svg.content


def test_labels_from_registrants_are_text_in_the_svg(admin_client, term):
    svg = admin_client.get(reverse("reports:event_chart", args=[term[0].pk, "affiliations"]))
    root = ET.fromstring(svg.content)  # noqa: S314
    texts = "".join(root.itertext())
    assert "Rice $x^2$ <script>" in texts


@pytest.mark.parametrize("page", ["event", "series"])
def test_csv_of_each_chart_matches_its_table(admin_client, term, series, page):
    owner = term[1] if page == "event" else series
    assert_csvs_match_tables(admin_client, page, owner)


def assert_csvs_match_tables(admin_client, page, owner):
    response = admin_client.get(reverse(f"reports:{page}", args=[owner.pk]))
    html = response.content.decode()

    for table in response.context["tables"]:
        download = admin_client.get(reverse(f"reports:{page}_csv", args=[owner.pk, table.slug]))
        assert download["Content-Disposition"].startswith("attachment;")
        assert download.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert rows[0] == [str(column) for column in table.columns]
        # An empty cell is a figure that does not apply (online places have no check-in).
        assert rows[1:] == [["" if value is None else str(value) for value in row] for row in table.rows]
        for row in table.rows:
            last = row[-1]
            assert f"<td>{last}</td>" in html if last is not None else "not counted" in html


def test_sign_ups_over_time_add_up(admin_client, term):
    talk = term[3]
    response = admin_client.get(reverse("reports:event", args=[talk.pk]))
    table = next(t for t in response.context["tables"] if t.slug == "sign-ups")
    assert table.rows[-1][2] == Registration.objects.filter(event=talk).count()


def test_unknown_chart_is_not_found(admin_client, term):
    assert admin_client.get(reverse("reports:event_chart", args=[term[0].pk, "nope"])).status_code == 404


# In the room and online


@pytest.fixture
def hybrid_term(make_event, sign_up):
    """Two hybrid talks (2 seats, 2 online places), one over: each way has confirmed, waiting, cancelled people."""
    talks = [
        make_event(title=f"Hybrid {n}", slug=f"hybrid-{n}", attendance_mode="hybrid", capacity=2, online_capacity=2)
        for n in (1, 2)
    ]
    for talk in talks:
        room = [sign_up(talk, attendance="in_person") for _ in range(4)]
        online = [sign_up(talk, attendance="online") for _ in range(3)]
        services.check_in(registration=room[0])
        services.cancel_registration(registration=room[3])  # waiting in line: the seats stay taken
        services.cancel_registration(registration=online[2])
    move_to_past(talks[0], 3)
    return talks


def db_counts_by_mode(registrations):
    return {mode: db_counts(registrations.filter(attendance=mode)) for mode in ("in_person", "online")}


def modes_table(response):
    return next(table for table in response.context["tables"] if table.slug == "attendance-modes")


def test_hybrid_talk_counts_the_room_and_online_apart(admin_client, hybrid_term):
    for talk in hybrid_term:
        response = admin_client.get(reverse("reports:event", args=[talk.pk]))
        expected = db_counts_by_mode(Registration.objects.filter(event=talk))
        html = response.content.decode()

        rows = {row[0]: row for row in modes_table(response).rows}
        assert set(rows) == {"In person", "Online"}
        for label, mode in (("In person", "in_person"), ("Online", "online")):
            counts = expected[mode]
            states = ("registered", "confirmed", "held", "waitlisted", "cancelled")
            assert rows[label][1:6] == [counts[key] for key in states]
            assert f'<th scope="row">{label}</th>' + "".join(f"<td>{n}</td>" for n in rows[label][1:6]) in html
        assert rows["In person"][6] == expected["in_person"]["checked_in"] == 1
        assert rows["Online"][6:] == [None, None]
        summary = response.context["summary"]
        for mode, counts in expected.items():
            assert {key: summary[f"{mode}_{key}"] for key in counts} == counts


def test_hybrid_no_shows_are_people_in_the_room_only(admin_client, hybrid_term):
    over = hybrid_term[0]
    response = admin_client.get(reverse("reports:event", args=[over.pk]))

    room = Registration.objects.filter(event=over, attendance="in_person", status="confirmed")
    missing = room.filter(checked_in_at__isnull=True).count()
    assert response.context["summary"]["no_shows"] == missing == 1
    assert response.context["summary"]["no_show_rate"] == pytest.approx(missing / room.count())
    assert modes_table(response).rows[0][7] == missing


@pytest.mark.parametrize("page", ["event", "series"])
def test_hybrid_csvs_match_their_tables(admin_client, hybrid_term, series, page):
    assert_csvs_match_tables(admin_client, page, hybrid_term[0] if page == "event" else series)


def test_hybrid_charts_are_svg_with_both_ways(admin_client, hybrid_term, series):
    for url in (
        reverse("reports:event_chart", args=[hybrid_term[0].pk, "attendance-modes"]),
        reverse("reports:series_chart", args=[series.pk, "attendance-modes"]),
        reverse("reports:series_chart", args=[series.pk, "attendance"]),
    ):
        root = ET.fromstring(admin_client.get(url).content)  # noqa: S314
        assert root[0].tag == f"{SVG}title" and root[1].tag == f"{SVG}desc"
        text = "".join(root.itertext())
        assert ("Online" in text or "online" in text) and root[1].text


def test_series_page_splits_each_hybrid_talk_and_totals(admin_client, hybrid_term, series):
    response = admin_client.get(reverse("reports:series", args=[series.pk]))
    html = " ".join(response.content.decode().split())

    for talk in response.context["talks"]:
        expected = db_counts_by_mode(Registration.objects.filter(event=talk))
        for key in ("registered", "confirmed", "waitlisted", "cancelled", "checked_in"):
            room, online = expected["in_person"][key], expected["online"][key]
            assert (getattr(talk, key), getattr(talk, f"in_person_{key}"), getattr(talk, f"online_{key}")) == (
                room + online,
                room,
                online,
            )
            assert f"{room} in the room, {online} online" in html
    totals = db_counts_by_mode(Registration.objects.filter(event__series=series))
    rows = {row[0]: row[1:6] for row in modes_table(response).rows}
    states = ("registered", "confirmed", "held", "waitlisted", "cancelled")
    assert rows["Online"] == [totals["online"][key] for key in states]
    attendance = next(t for t in response.context["tables"] if t.slug == "attendance")
    assert attendance.columns[-1] == "Confirmed online"
    # Only the talk that is over: the other has not taken place yet.
    assert [row[4] for row in attendance.rows] == [
        Registration.objects.filter(event=hybrid_term[0], attendance="online", status="confirmed").count()
    ]


def test_in_person_pages_have_no_split(admin_client, term, series):
    event_page = admin_client.get(reverse("reports:event", args=[term[0].pk]))
    series_page = admin_client.get(reverse("reports:series", args=[series.pk]))
    for response in (event_page, series_page):
        assert "attendance-modes" not in [table.slug for table in response.context["tables"]]
        assert "in the room," not in response.content.decode()


# Who may see them


@pytest.fixture
def other_organizer(make_team_member):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    return make_team_member(other, "bob")


def all_urls(term, series):
    talk = term[0]
    return [
        reverse("reports:event", args=[talk.pk]),
        reverse("reports:event_chart", args=[talk.pk, "positions"]),
        reverse("reports:event_csv", args=[talk.pk, "positions"]),
        reverse("reports:series", args=[series.pk]),
        reverse("reports:series_chart", args=[series.pk, "attendance"]),
        reverse("reports:series_csv", args=[series.pk, "attendance"]),
    ]


def test_another_series_organizer_and_door_staff_get_404(client, term, series, other_organizer, make_team_member):
    door = make_team_member(series, "dora", role=SeriesMember.Role.DOOR)
    for user in (other_organizer, door):
        client.force_login(user)
        for url in all_urls(term, series):
            assert client.get(url).status_code == 404, (user, url)


def test_own_organizer_sees_them(client, term, series, make_team_member):
    client.force_login(make_team_member(series, "alice"))
    for url in all_urls(term, series):
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_log_in(client, term, series):
    for url in all_urls(term, series):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_admin_pages_link_to_the_numbers(admin_client, term, series):
    talk_page = admin_client.get(reverse("admin:events_event_change", args=[term[0].pk])).content.decode()
    series_page = admin_client.get(reverse("admin:events_series_change", args=[series.pk])).content.decode()

    assert reverse("reports:event", args=[term[0].pk]) in talk_page
    assert reverse("reports:series", args=[series.pk]) in series_page


def test_an_online_talk_has_no_no_shows_to_wait_for(admin_client, make_event, sign_up):
    talk = make_event(attendance_mode="online", venue=None)
    sign_up(talk, attendance="online")
    move_to_past(talk, 2)

    response = admin_client.get(reverse("reports:event", args=[talk.pk]))

    assert response.context["summary"]["no_shows"] is None
    assert 'data-figure="no_shows">–<' in response.content.decode()
    assert [row[0] for row in modes_table(response).rows] == ["Online"]


def test_the_charts_descriptions_read_as_sentences(admin_client, hybrid_term, series, make_event, sign_up):
    one_day = make_event(title="One day")
    for _ in range(3):
        sign_up(one_day)

    series_page = admin_client.get(reverse("reports:series", args=[series.pk]))
    talk_page = admin_client.get(reverse("reports:event", args=[one_day.pk]))

    modes = modes_table(series_page).description
    assert modes.startswith("In person: sign-ups: ") and " Online: sign-ups: " in modes
    assert ".;" not in modes and "sign-ups," not in modes and modes.endswith(".")
    over_time = next(t for t in talk_page.context["tables"] if t.slug == "sign-ups").description
    today = timezone.localdate().isoformat()
    assert over_time == f"3 people signed up, all on {today}."


def test_a_year_of_talks_labels_its_chart_without_writing_dates_over_each_other(admin_client, series, make_event):
    first = timezone.now() - datetime.timedelta(days=400)
    for week in range(40):
        talk = make_event(title=f"Week {week}", slug=f"week-{week}")
        move_to_past(talk, 400 - 7 * week)

    svg = admin_client.get(reverse("reports:series_chart", args=[series.pk, "attendance"]))

    texts = [text.strip() for text in ET.fromstring(svg.content).itertext()]  # noqa: S314
    dates = [text for text in texts if len(text) == 10 and text[4] == text[7] == "-"]
    assert 4 <= len(dates) <= 12
    assert dates[0] == timezone.localdate(first).isoformat()
    table = admin_client.get(reverse("reports:series_csv", args=[series.pk, "attendance"])).content.decode()
    assert len(table.splitlines()) == 41, "the table beside it names every talk"


def test_a_cancelled_talk_has_no_no_shows(admin_client, series, make_event, sign_up):
    held, called_off = make_event(title="Held", slug="held"), make_event(title="Called off", slug="called-off")
    services.check_in(registration=sign_up(held))
    sign_up(held)
    for _ in range(3):
        sign_up(called_off)  # their registrations stay confirmed when the talk is called off
    Event.objects.filter(pk=called_off.pk).update(status=Event.Status.CANCELLED)
    move_to_past(held, 14)
    move_to_past(called_off, 7)

    page = admin_client.get(reverse("reports:event", args=[called_off.pk]))
    numbers = admin_client.get(reverse("reports:series", args=[series.pk]))

    assert page.context["summary"]["no_shows"] is None
    assert 'data-figure="no_shows">–<' in page.content.decode()
    assert (numbers.context["past_summary"]["no_shows"], numbers.context["past_summary"]["confirmed"]) == (1, 2)
    assert {talk.title: talk.no_shows for talk in numbers.context["talks"]} == {"Held": 1, "Called off": None}


def test_affiliations_typed_in_other_case_or_spacing_count_as_one(admin_client, series, make_event, sign_up):
    talk = make_event(capacity=20)
    for affiliation in ("UT Austin", "UT Austin", "ut austin ", " UT  AUSTIN", "Rice", "  "):
        sign_up(talk, affiliation="Rice")
        Registration.objects.filter(pk=Registration.objects.latest("pk").pk).update(affiliation=affiliation)

    for page, owner in (("event", talk), ("series", series)):
        response = admin_client.get(reverse(f"reports:{page}", args=[owner.pk]))
        html = response.content.decode()
        assert '<th scope="row">UT Austin</th><td>4</td>' in html
        assert "ut austin" not in html and "UT  AUSTIN" not in html
        download = admin_client.get(reverse(f"reports:{page}_csv", args=[owner.pk, "affiliations"]))
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert rows == [["Affiliation", "Sign-ups"], ["UT Austin", "4"], ["Rice", "1"], ["Not given or erased", "1"]]

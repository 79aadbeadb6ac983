import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Question
from registrations import services
from registrations.admin.export import csv_cell
from tests.registrations.admin.changelist import read_csv, run_action

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Ana = Bob", "Ana = Bob"),
        ("王小明", "王小明"),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_cell_neutralizes_formulas(value, cell):
    assert csv_cell(value) == cell


def test_export_csv_streams_every_selected_registration(admin_client, make_event, sign_up):
    event = make_event(capacity=1, title="CSV talk")
    ana = sign_up(event, name="Zoë Ñúñez", email="ana+seminar@bücher.example", affiliation="UT, Austin")
    first = sign_up(event, name='=HYPERLINK("http://evil.example","click")', affiliation="+SUM(1)")
    second = sign_up(event, name="@cmd", affiliation="-1+1", position="postdoc")

    response = run_action(admin_client, "export_csv", [second, ana, first])

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="registrations-{event.slug}.csv"'
    rows = read_csv(response)
    assert rows[0][:8] == [
        "Talk",
        "Talk starts",
        "Name",
        "Email",
        "Affiliation",
        "Position",
        "Status",
        "Waiting list place",
    ]
    assert [row[2:8] for row in rows[1:]] == [
        ["Zoë Ñúñez", "ana+seminar@bücher.example", "UT, Austin", "", "Confirmed", ""],
        ['\'=HYPERLINK("http://evil.example","click")', first.email, "'+SUM(1)", "", "Waiting list", "1"],
        ["'@cmd", second.email, "'-1+1", "Postdoc", "Waiting list", "2"],
    ]
    assert all(row[0] == "CSV talk" for row in rows[1:])


def test_export_csv_of_a_subset_keeps_true_waitlist_places(admin_client, make_event, sign_up):
    event = make_event(capacity=0)
    sign_up(event)
    second = sign_up(event)

    rows = read_csv(run_action(admin_client, "export_csv", [second]))

    assert len(rows) == 2
    assert rows[1][7] == "2"


def test_an_export_of_several_talks_has_a_general_name(admin_client, make_event, sign_up):
    response = run_action(admin_client, "export_csv", [sign_up(make_event()), sign_up(make_event())])

    assert response["Content-Disposition"] == 'attachment; filename="registrations.csv"'
    assert len(read_csv(response)) == 3


def test_export_csv_query_count_does_not_grow_with_the_registrations(admin_client, make_event, sign_up, ask):
    def export_queries(registrations):
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(run_action(admin_client, "export_csv", registrations))
        return len(queries), rows

    few_talk, many_talk = make_event(capacity=1), make_event(capacity=20)
    few = [sign_up(few_talk) for _ in range(2)]
    lunch = ask(many_talk, "Lunch?", kind=Question.Kind.YES_NO)
    many = [sign_up(many_talk, answers={lunch.pk: "yes" if n % 2 else "no"}, affiliation=f"Lab {n}") for n in range(30)]

    few_count, _ = export_queries(few)
    many_count, rows = export_queries(many)

    assert many_count == few_count
    # Every answer lands on its own registrant's row, however the two streams are read.
    assert [row[-1] for row in rows[1:]] == ["No" if n % 2 == 0 else "Yes" for n in range(30)]
    assert [row[4] for row in rows[1:]] == [f"Lab {n}" for n in range(30)]
    assert [row[7] for row in rows[1:]] == [""] * 20 + [str(place) for place in range(1, 11)]


def test_csv_has_one_formula_safe_column_per_question(admin_client, make_event, ask):
    first, second = (
        make_event(title="First"),
        make_event(title="Second", start=timezone.now() + datetime.timedelta(days=30)),
    )
    diet = ask(first, "Dietary restrictions?")
    topics = ask(first, "Topics", kind="multiple_choice", choices=["Vision", "Theory"])
    # The same question on another talk (a duplicated talk asks the same) shares the column.
    diet_again = ask(second, "Dietary restrictions?")
    lunch = ask(second, "Lunch?", kind="yes_no")
    ana = services.register(
        event=first, name="Ana", email="ana@example.edu", answers={diet.pk: "=1+1", topics.pk: "Vision\nTheory"}
    ).registration
    ben = services.register(event=first, name="Ben", email="ben@example.edu").registration
    cy = services.register(
        event=second, name="Cy", email="cy@example.edu", answers={diet_again.pk: "Vegan, strictly", lunch.pk: "yes"}
    ).registration

    rows = read_csv(run_action(admin_client, "export_csv", [cy, ben, ana]))

    header = rows[0]
    assert header[-3:] == ["Dietary restrictions?", "Topics", "Lunch?"]
    assert {row[2]: row[-3:] for row in rows[1:]} == {
        "Ana": ["'=1+1", "Vision; Theory", ""],
        "Ben": ["", "", ""],
        "Cy": ["Vegan, strictly", "", "Yes"],
    }


def test_csv_question_headers_are_formula_safe_too(admin_client, event, ask):
    ask(event, "=cmd|' /C calc'!A0")
    registration = services.register(event=event, name="Ana", email="ana@example.edu").registration

    rows = read_csv(run_action(admin_client, "export_csv", [registration]))

    assert rows[0][-1] == "'=cmd|' /C calc'!A0"


def test_admin_list_and_csv_name_the_venues_zone(admin_client, make_event, sign_up):
    from events.models import Venue

    new_york = Venue.objects.create(room="Room 101", default_capacity=20, time_zone="America/New_York")
    start = datetime.datetime(2027, 1, 20, 20, 0, tzinfo=datetime.UTC)
    event = make_event(venue=new_york, start=start, end=start + datetime.timedelta(hours=1))
    registration = sign_up(event)

    listing = admin_client.get("/admin/events/event/").content.decode()
    assert "Wed 20 Jan 2027, 3:00 PM EST" in listing
    rows = read_csv(run_action(admin_client, "export_csv", [registration]))
    header, row = rows
    assert row[header.index("Talk starts")] == "2027-01-20 15:00 EST"
    assert row[header.index("Registered")].endswith((" EST", " EDT"))

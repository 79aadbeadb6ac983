import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event, Question
from outbox.models import OutgoingMail
from registrations import services
from registrations.admin.export import csv_cell
from registrations.models import MailKind, Registration, RegistrationLog
from tests.admin_forms import event_form_data, inline_management_data
from tests.mime import html_body, invite, sent

pytestmark = pytest.mark.django_db

REGISTRATIONS = "/admin/registrations/registration/"


def change_form_data(admin_client, event, **overrides):
    """What the event change form posts when nothing but `overrides` is edited."""
    url = f"/admin/events/event/{event.pk}/change/"
    fields = {
        "title": event.title,
        "slug": event.slug,
        "status": event.status,
        "abstract": event.abstract,
        "capacity": event.capacity,
    }
    data = event_form_data(
        series=event.series,
        venue=event.venue,
        speakers=event.speakers.all(),
        start=overrides.pop("start", event.start),
        end=overrides.pop("end", event.end),
        **(fields | overrides),
    )
    return url, data | inline_management_data(admin_client, url)


def run_action(client, action, registrations):
    return client.post(
        REGISTRATIONS,
        {"action": action, "_selected_action": [r.pk for r in registrations]},
        follow=action != "export_csv",
    )


def read_csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# The event list and page


def test_event_changelist_shows_confirmed_capacity_and_waiting(admin_client, make_event, sign_up):
    event = make_event(capacity=2, title="Busy talk")
    for _ in range(5):
        sign_up(event)
    services.cancel_registration(registration=Registration.objects.filter(event=event).waitlisted().first())

    response = admin_client.get("/admin/events/event/")

    listed = response.context["cl"].result_list
    row = next(e for e in listed if e.pk == event.pk)
    assert (row.confirmed_count, row.capacity, row.waitlisted_count) == (2, 2, 2)
    page = response.content.decode()
    assert '<td class="field-confirmed">2</td>' in page
    assert '<td class="field-waitlisted">2</td>' in page


def test_event_changelist_query_count_does_not_depend_on_events(admin_client, make_event, sign_up):
    sign_up(make_event())
    with CaptureQueriesContext(connection) as one:
        admin_client.get("/admin/events/event/")
    for _ in range(9):
        event = make_event(capacity=1)
        sign_up(event)
        sign_up(event)
    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get("/admin/events/event/")

    assert response.status_code == 200
    assert len(ten) == len(one)


def test_event_page_lists_registrations_read_only_and_escaped(admin_client, event, sign_up):
    sign_up(event, name="<script>alert('x')</script>", affiliation="<b>Lab</b>")

    page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()

    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert('x')</script>" not in page
    assert "&lt;b&gt;Lab&lt;/b&gt;" in page
    assert 'name="registrations-0-name"' not in page


def test_raising_capacity_in_admin_promotes_at_once(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(3)]
    url, data = change_form_data(admin_client, event, capacity=3)

    response = admin_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "2 registrations promoted from the waiting list." in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)
    assert [Registration.objects.get(pk=w.pk).status for w in waiting] == ["confirmed", "confirmed", "waitlisted"]
    entry = RegistrationLog.objects.get(registration=waiting[0], action=RegistrationLog.Action.PROMOTED)
    assert entry.actor.username == "admin"


def test_lowering_capacity_below_confirmed_in_admin_is_a_form_error(admin_client, make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=2, title="Renamed", send_update="no")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "3 people already hold a seat." in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken, event.title) == (5, 3, event.title)
    assert event.title != "Renamed"


def test_lowering_capacity_to_confirmed_in_admin_is_allowed(admin_client, make_event, sign_up):
    event = make_event(capacity=5)
    for _ in range(3):
        sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=3)

    assert admin_client.post(url, data).status_code == 302

    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (3, 3)


def test_seats_taken_after_form_was_read_still_refuse_the_capacity(admin_client, make_event, sign_up, monkeypatch):
    event = make_event(capacity=5)
    sign_up(event)
    url, data = change_form_data(admin_client, event, capacity=2, title="Renamed", send_update="no")
    # Someone registers between the form's validation and the save: the service, under the lock, says no.
    monkeypatch.setattr(Event, "clean", lambda self: None)
    for _ in range(2):
        sign_up(event)

    response = admin_client.post(url, data, follow=True)

    assert "The capacity was not changed: 3 people already hold a seat" in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken, event.title) == (5, 3, "Renamed")


# The registration list and its actions


def test_registration_changelist_filters_and_search(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    other = make_event(title="Other talk")
    ana = sign_up(event, name="Ana López", email="ana@ut.edu", affiliation="Oden Institute", position="student")
    bob = sign_up(event, name="Bob", email="bob@example.com", position="faculty")
    carla = sign_up(other, name="Carla", email="carla@example.com")
    services.check_in(registration=carla)

    def names(query):
        response = admin_client.get(REGISTRATIONS + query)
        assert response.status_code == 200
        return {r.name for r in response.context["cl"].result_list}

    assert names("") == {"Ana López", "Bob", "Carla"}
    assert names(f"?event__id__exact={event.pk}") == {"Ana López", "Bob"}
    assert names("?status__exact=waitlisted") == {"Bob"}
    assert names("?position__exact=student") == {"Ana López"}
    assert names("?checked_in=yes") == {"Carla"}
    assert names("?checked_in=no") == {"Ana López", "Bob"}
    assert names("?q=oden") == {"Ana López"}
    assert names("?q=BOB@EXAMPLE") == {"Bob"}
    assert ana and bob


def test_registration_page_shows_history_and_escapes(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event, name='<img src=x onerror="alert(1)">')
    services.cancel_registration(registration=holder)

    page = admin_client.get(f"{REGISTRATIONS}{waiting.pk}/change/").content.decode()

    assert "Joined the waiting list" in page
    assert "Promoted from the waiting list" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert '<img src=x onerror="alert(1)">' not in page
    assert 'name="status"' not in page
    listing = admin_client.get(REGISTRATIONS).content.decode()
    assert '<img src=x onerror="alert(1)">' not in listing


def test_registration_page_query_count_does_not_depend_on_its_history(admin_client, event, sign_up):
    def history_page_queries(registration, organizers):
        for n in range(organizers):
            actor = get_user_model().objects.create_user(f"organizer-{registration.pk}-{n}", is_staff=True)
            RegistrationLog.objects.create(
                registration=registration, action=RegistrationLog.Action.CHECKED_IN, actor=actor, note="at the door"
            )
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"{REGISTRATIONS}{registration.pk}/change/")
        assert response.status_code == 200
        assert response.content.decode().count("at the door") == organizers
        return len(queries)

    history_page_queries(sign_up(event), 0)  # fills the content type cache, which other tests may have filled
    assert history_page_queries(sign_up(event), 1) == history_page_queries(sign_up(event), 6)


def test_registrations_cannot_be_deleted_in_admin(admin_client, event, sign_up):
    registration = sign_up(event)

    assert admin_client.get(f"{REGISTRATIONS}{registration.pk}/delete/").status_code == 403
    assert "delete_selected" not in admin_client.get(REGISTRATIONS).content.decode()


def test_editing_a_registration_to_a_taken_address_is_a_form_error(admin_client, event, sign_up):
    sign_up(event, email="ana@ut.edu")
    other = sign_up(event, name="Bob", email="bob@ut.edu")
    data = {"name": "Bob", "email": "ANA@ut.edu", "affiliation": "", "position": ""}
    data |= {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0", "log-MIN_NUM_FORMS": "0", "log-MAX_NUM_FORMS": "0"}

    response = admin_client.post(f"{REGISTRATIONS}{other.pk}/change/", data)

    assert response.status_code == 200
    assert "This email address is already registered for this talk." in response.content.decode()
    other.refresh_from_db()
    assert other.email == "bob@ut.edu"


def test_cancel_action_says_why_a_past_talk_is_left_alone(admin_client, event, sign_up):
    registration = sign_up(event)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )

    response = run_action(admin_client, "cancel_registrations", [registration])

    page = response.content.decode()
    assert "Cancelled 0 registrations" in page
    assert "1 left as they were: This talk has already taken place." in page
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


@pytest.mark.parametrize("field", ["name", "affiliation"])
def test_editing_a_registration_refuses_line_breaks(admin_client, event, sign_up, field):
    registration = sign_up(event, name="Bob", email="bob@ut.edu", affiliation="UT")
    data = {"name": "Bob", "email": "bob@ut.edu", "affiliation": "UT", "position": ""}
    data |= {"log-TOTAL_FORMS": "0", "log-INITIAL_FORMS": "0", "log-MIN_NUM_FORMS": "0", "log-MAX_NUM_FORMS": "0"}
    data[field] = "Bob\r\nBcc: victim@example.com"

    response = admin_client.post(f"{REGISTRATIONS}{registration.pk}/change/", data)

    assert response.status_code == 200
    assert "Please write this on one line, without line breaks or control characters." in response.content.decode()
    registration.refresh_from_db()
    assert (registration.name, registration.affiliation) == ("Bob", "UT")


def test_cancel_action_promotes(admin_client, make_event, sign_up):
    event = make_event(capacity=2)
    confirmed = [sign_up(event), sign_up(event)]
    waiting = [sign_up(event), sign_up(event), sign_up(event)]
    services.cancel_registration(registration=waiting[2])

    response = run_action(admin_client, "cancel_registrations", [*confirmed, waiting[2]])

    page = response.content.decode()
    assert "Cancelled 2 registrations; 2 promoted from the waiting list." in page
    assert "1 left as they were: This registration is already cancelled." in page
    assert list(Registration.objects.filter(event=event).confirmed()) == waiting[:2]
    event.refresh_from_db()
    assert event.seats_taken == 2
    assert RegistrationLog.objects.get(registration=confirmed[0], action="cancelled").actor.username == "admin"


def test_promote_action_fills_free_seats(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event), sign_up(event)]
    Event.objects.filter(pk=event.pk).update(capacity=2)

    response = run_action(admin_client, "promote_from_waitlist", waiting[1:])

    assert "Promoted 1 registration from the waiting list." in response.content.decode()
    assert Registration.objects.get(pk=waiting[0].pk).status == "confirmed"
    assert Registration.objects.get(pk=waiting[1].pk).status == "waitlisted"


def test_check_in_action(admin_client, make_event, sign_up):
    event = make_event(capacity=1)
    confirmed = sign_up(event)
    waiting = sign_up(event)

    response = run_action(admin_client, "check_in", [confirmed, waiting])

    page = response.content.decode()
    assert "Checked in 1 registration." in page
    assert "1 not checked in" in page
    assert Registration.objects.get(pk=confirmed.pk).checked_in_at is not None
    assert Registration.objects.get(pk=waiting.pk).checked_in_at is None


# CSV export


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
    assert response["Content-Disposition"] == 'attachment; filename="registrations.csv"'
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


# The Organizers group


@pytest.fixture
def organizer(client, make_team_member, series):
    user = make_team_member(series, "organizer")
    client.force_login(user)
    return user


def test_organizers_group_has_exactly_the_needed_permissions():
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Organizers").permissions.all()}

    expected = {
        f"events.{verb}_{model}"
        for model in ("series", "speaker", "venue", "event", "question")
        for verb in ("view", "add", "change", "delete")
    }
    expected |= {
        "registrations.view_registration",
        "registrations.add_registration",
        "registrations.change_registration",
        "registrations.view_registrationlog",
        "registrations.view_answer",
        "outbox.view_outgoingmail",
        "outbox.change_outgoingmail",
        "registrations.check_in_registration",
    }
    expected |= {f"mailings.{verb}_mailing" for verb in ("view", "add", "change", "delete")}
    expected |= {"followers.view_seriesfollowing"}  # counts only
    assert perms == expected


def test_organizer_role_set_on_a_series_makes_a_staff_member_of_the_organizers_group(organizer):
    assert organizer.is_staff
    assert list(organizer.groups.values_list("name", flat=True)) == ["Organizers"]


def test_organizer_can_manage_registrations(organizer, client, make_event, sign_up):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event)

    assert client.get(REGISTRATIONS).status_code == 200
    assert client.get(f"{REGISTRATIONS}{holder.pk}/change/").status_code == 200
    assert client.get(f"/admin/events/event/{event.pk}/change/").status_code == 200
    response = run_action(client, "cancel_registrations", [holder])

    assert "Cancelled 1 registration; 1 promoted" in response.content.decode()
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"
    assert organizer.has_perm("events.add_event")


def test_organizer_cannot_manage_users_or_groups(organizer, client):
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    assert not organizer.has_perm("auth.add_user")
    assert not organizer.has_perm("auth.change_user")
    assert not organizer.has_perm("auth.view_user")
    assert not organizer.is_superuser


# Erasing personal data


def test_organizer_erases_personal_data_with_the_action(organizer, client, make_event, sign_up):
    past = make_event(title="Past talk")
    old = sign_up(past, name="<script>alert(1)</script> Zoë", email="zoe@example.edu", affiliation="UT Austin")
    Event.objects.filter(pk=past.pk).update(
        start=timezone.now() - datetime.timedelta(days=400), end=timezone.now() - datetime.timedelta(days=399)
    )
    upcoming = make_event(capacity=1)
    holder = sign_up(upcoming, name="王小明", email="wang@example.edu")
    waiting = sign_up(upcoming)

    response = run_action(client, "erase_personal_data", [old, holder])

    page = response.content.decode()
    assert "Erased the personal data of 2 registrations." in page
    assert "zoe@example.edu" not in page and "王小明" not in page
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"
    assert Registration.objects.get(pk=holder.pk).status == "cancelled"
    entry = RegistrationLog.objects.get(registration=old, action="erased")
    assert (entry.actor, entry.note) == (organizer, "Erased on request.")

    again = run_action(client, "erase_personal_data", [old, holder]).content.decode()
    assert "Erased the personal data of 0 registrations." in again
    assert "2 were erased already and were left alone." in again
    assert RegistrationLog.objects.filter(action="erased").count() == 2


def test_erased_registrations_show_as_erased_in_admin_and_csv(admin_client, event, sign_up):
    erased = sign_up(event, name="Zoë Ñúñez", email="zoe@example.edu", affiliation="=cmd", position="faculty")
    services.erase_personal_data(registrations=[erased])

    listing = admin_client.get(REGISTRATIONS).content.decode()
    detail = admin_client.get(f"{REGISTRATIONS}{erased.pk}/change/")
    talk_page = admin_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    rows = read_csv(run_action(admin_client, "export_csv", [erased]))

    assert "Erased" in listing and "zoe@example.edu" not in listing
    assert detail.status_code == 200
    assert "Erased" in detail.content.decode()
    # Nothing editable is left: nobody types a person back in.
    assert 'name="name"' not in detail.content.decode() and 'name="email"' not in detail.content.decode()
    assert "Erased" in talk_page and "Zoë" not in talk_page
    assert rows[1][2:7] == ["Erased", f"erased-{erased.pk}@erased.invalid", "", "Faculty", "Cancelled"]


def test_erase_action_needs_change_permission(client, event, sign_up):
    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_registration"))
    client.force_login(viewer)
    registration = sign_up(event, name="Ana")

    response = run_action(client, "erase_personal_data", [registration])

    assert response.status_code == 200
    assert "Erased the personal data" not in response.content.decode()
    assert Registration.objects.get(pk=registration.pk).name == "Ana"


# Adding a registration from the admin (through services.register)

ADD = f"{REGISTRATIONS}add/"


def add_data(talk, **overrides):
    return {
        "event": talk.pk,
        "attendance": "in_person",
        "name": "Zoë Ñúñez",
        "email": "zoe@example.edu",
        "affiliation": "",
        "position": "",
    } | overrides


def form_errors(response):
    return response.context["adminform"].form.non_field_errors()


def test_add_form_shows_only_the_registrants_fields(organizer, client, make_event):
    make_event(title="Draft talk", status=Event.Status.DRAFT)

    response = client.get(ADD)

    assert response.status_code == 200
    page = response.content.decode()
    for field in ("event", "attendance", "name", "email", "affiliation", "position"):
        assert f'name="{field}"' in page
    for field in ("status", "key", "created_at", "checked_in_at", "erased_at"):
        assert f'name="{field}"' not in page
    assert "Draft talk" in page and "(Draft)" in page


def test_organizer_adds_a_registration_and_gets_a_seat(
    organizer, client, make_event, django_capture_on_commit_callbacks
):
    event = make_event(capacity=2, title="Seminar talk")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD,
            add_data(event, name="  王小明  ", email=" Wang@Example.edu ", affiliation="UT Austin", position="postdoc"),
            follow=True,
        )

    assert response.status_code == 200
    assert "王小明 has a seat; the confirmation email is on its way." in response.content.decode()
    registration = Registration.objects.get(event=event)
    assert (registration.name, registration.email, registration.affiliation, registration.position) == (
        "王小明",
        "Wang@Example.edu",
        "UT Austin",
        "postdoc",
    )
    assert registration.status == Registration.Status.CONFIRMED
    event.refresh_from_db()
    assert event.seats_taken == 1
    entry = RegistrationLog.objects.get(registration=registration)
    assert (entry.action, entry.actor) == (RegistrationLog.Action.REGISTERED, organizer)
    outgoing = OutgoingMail.objects.get(registration=registration)
    assert (outgoing.kind, outgoing.status) == (MailKind.CONFIRMATION, OutgoingMail.Status.SENT)
    [message] = sent()
    assert message["To"].addresses[0].display_name == "王小明"
    assert message["To"].addresses[0].addr_spec == "Wang@Example.edu"
    _, vevent, _ = invite(message)
    assert vevent["SUMMARY"] == "Seminar talk"


def test_organizer_adding_to_a_full_talk_puts_the_person_on_the_waiting_list(organizer, client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)

    response = client.post(ADD, add_data(event), follow=True)

    assert "The talk is full: Zoë Ñúñez is number 2 on the waiting list" in response.content.decode()
    registration = Registration.objects.get(email="zoe@example.edu")
    assert registration.status == Registration.Status.WAITLISTED
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (1, 1)
    assert RegistrationLog.objects.get(registration=registration).actor == organizer
    assert OutgoingMail.objects.get(registration=registration).kind == MailKind.WAITLISTED


def test_full_talk_without_waiting_list_is_a_form_error_and_writes_nothing(organizer, client, make_event, sign_up):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)
    before = (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count())

    response = client.post(ADD, add_data(event))

    assert response.status_code == 200
    assert form_errors(response) == ["Sorry, this talk is full."]
    assert "Sorry, this talk is full." in response.content.decode()
    assert (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count()) == before
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": Event.Status.DRAFT}, "Registration is not open: this talk has not been published yet."),
        ({"status": Event.Status.CANCELLED}, "This talk was cancelled, so registration is closed."),
        (
            {
                "start": timezone.now() - datetime.timedelta(hours=1),
                "end": timezone.now() + datetime.timedelta(hours=1),
            },
            "Registration is closed: this talk has already started.",
        ),
    ],
)
def test_talks_the_service_refuses_are_form_errors(organizer, client, make_event, fields, message):
    event = make_event(**fields)

    response = client.post(ADD, add_data(event))

    assert response.status_code == 200
    assert form_errors(response) == [message]
    assert not Registration.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_address_already_registered_in_other_case_is_a_form_error_without_resend(
    organizer, client, make_event, sign_up
):
    event = make_event()
    existing = sign_up(event, name="Ana", email="ana@ut.edu")
    # Long enough ago that registering again on the talk page would resend the confirmation.
    OutgoingMail.objects.filter(registration=existing).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    before = (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count())

    response = client.post(ADD, add_data(event, name="Ana again", email=" ANA@UT.edu"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This email address is already registered for this talk" in page
    assert f'<a href="{REGISTRATIONS}{existing.pk}/change/">Ana</a>, confirmed' in page
    assert (Registration.objects.count(), RegistrationLog.objects.count(), OutgoingMail.objects.count()) == before
    assert not mail.outbox


def test_same_address_for_another_talk_is_fine(organizer, client, make_event, sign_up):
    sign_up(make_event(), email="ana@ut.edu")
    other = make_event(title="Other talk")

    assert client.post(ADD, add_data(other, email="ana@ut.edu")).status_code == 302

    assert Registration.objects.filter(email="ana@ut.edu").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "Ana\r\nBcc: victim@example.com"}, "name"),
        ({"affiliation": "Lab\nX-Header: 1"}, "affiliation"),
        ({"name": "\u200b \ufeff"}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"email": "ana@example.com\r\nBcc: victim@example.com"}, "email"),
        ({"position": "president"}, "position"),
        ({"event": "999999"}, "event"),
        ({"event": "'; DROP TABLE"}, "event"),
    ],
)
def test_hostile_input_is_a_form_error(organizer, client, event, overrides, field):
    response = client.post(ADD, add_data(event, **overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Registration.objects.exists()


def test_script_in_name_is_stored_as_text_and_escaped(organizer, client, event):
    client.post(ADD, add_data(event, name="<script>alert(1)</script>"))
    registration = Registration.objects.get()

    page = client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert registration.name == "<script>alert(1)</script>"
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_double_submitted_add_form_registers_once(organizer, client, event):
    first = client.post(ADD, add_data(event))
    second = client.post(ADD, add_data(event))

    assert first.status_code == 302
    assert second.status_code == 200
    assert "already registered" in str(form_errors(second))
    assert Registration.objects.count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_change_form_of_an_existing_registration_is_unchanged(organizer, client, event, sign_up):
    registration = sign_up(event)

    page = client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert 'name="event"' not in page and 'name="status"' not in page
    assert 'name="name"' in page
    assert "Registered (confirmed)" in page  # the history inline


def test_adding_needs_the_add_permission(client, event):
    clerk = get_user_model().objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_registration", "change_registration"]))
    client.force_login(clerk)

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_data(event)).status_code == 403
    assert not Registration.objects.exists()


def test_add_form_query_count_does_not_depend_on_the_number_of_talks(
    organizer, client, make_event, django_assert_num_queries
):
    make_event()
    client.get(ADD)  # fills the content type cache, which other tests may or may not have filled
    with CaptureQueriesContext(connection) as one:
        client.get(ADD)
    for _ in range(9):
        make_event()

    with django_assert_num_queries(len(one)):
        response = client.get(ADD)

    assert response.status_code == 200
    # Session, user, its permissions (own and group's), the talks.
    assert len(one) == 5


# Questions on the registration form


def with_questions(data, *questions, initial=0):
    """Add the question inline's forms to an event change form's data."""
    data = data | {"questions-TOTAL_FORMS": str(len(questions)), "questions-INITIAL_FORMS": str(initial)}
    for index, question in enumerate(questions):
        data |= {f"questions-{index}-{name}": value for name, value in question.items()}
    return data


def test_organizer_adds_questions_to_a_talk(organizer, client, event):
    url, data = change_form_data(client, event)
    data = with_questions(
        data,
        {"label": "Dietary restrictions for lunch?", "kind": "short_text", "position": "2", "choices": ""},
        {
            "label": "Lunch?",
            "kind": "single_choice",
            "choices": "Vegan\r\nVegetarian\r\nAnything",
            "required": "on",
            "position": "1",
            "help_text": "We order for everyone.",
        },
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(event.questions.values_list("label", "kind", "choices", "required")) == [
        ("Lunch?", "single_choice", "Vegan\nVegetarian\nAnything", True),
        ("Dietary restrictions for lunch?", "short_text", "", False),
    ]
    assert "Lunch?" in client.get(event.get_absolute_url()).content.decode()


def test_a_choice_question_without_choices_is_a_form_error(organizer, client, event):
    url, data = change_form_data(client, event)
    data = with_questions(data, {"label": "Lunch?", "kind": "multiple_choice", "choices": "Only one", "position": "1"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Give at least two choices, one per line." in response.content.decode()
    assert not Question.objects.exists()


def test_a_question_people_answered_cannot_be_deleted(admin_client, event, ask):
    question = ask(event, "Lunch?", kind="yes_no")
    services.register(event=event, name="Ana", email="ana@example.edu", answers={question.pk: "yes"})
    url, data = change_form_data(admin_client, event)
    data |= {
        "questions-0-id": str(question.pk),
        "questions-0-event": str(event.pk),
        "questions-0-label": "Lunch?",
        "questions-0-kind": "yes_no",
        "questions-0-position": "1",
        "questions-0-DELETE": "on",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.content.decode()
    assert Question.objects.filter(pk=question.pk).exists()


def test_registration_page_shows_the_answers(admin_client, event, ask):
    diet = ask(event, "Dietary restrictions?")
    lunch = ask(event, "Lunch?", kind="yes_no")
    registration = services.register(
        event=event, name="Ana", email="ana@example.edu", answers={diet.pk: "<i>none</i>", lunch.pk: "no"}
    ).registration

    page = admin_client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert "Answers to the talk&#x27;s questions" in page
    assert "&lt;i&gt;none&lt;/i&gt;" in page
    assert "Dietary restrictions?" in page
    assert ">No<" in page


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


# "Send an update to the N registrants?"


@pytest.fixture
def two_registrants(event, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people = [sign_up(event, email="ana@example.edu"), sign_up(event, email="bo@example.edu")]
    mail.outbox.clear()
    return people


def post_change(admin_client, event, capture, **overrides):
    url, data = change_form_data(admin_client, event, **overrides)
    with capture(execute=True):
        return admin_client.post(url, data, follow=True)


def test_moving_a_talk_asks_first_with_yes_preselected_and_saves_nothing(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
    )

    page = response.content.decode()
    assert "Send an update to the 2 registrants?" in page
    assert "This change shows in their calendars" in page
    assert re.search(r'value="yes"[^>]*checked', page)
    assert Event.objects.get(pk=event.pk).start == event.start
    assert mail.outbox == []


def test_a_new_time_sent_as_an_update_raises_each_registrants_sequence(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        send_update="yes",
    )

    assert "An update of the talk goes to its 2 registrants." in response.content.decode()
    messages = sent()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ana@example.edu", "bo@example.edu"]
    for message in messages:
        assert message["Subject"].startswith("Updated time or place:")
        _calendar, vevent, _part = invite(message)
        assert vevent["SEQUENCE"] == 1
        assert vevent["DTSTART"].dt == later.replace(microsecond=0)
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [1, 1]


def test_a_new_time_kept_from_calendars_sends_nothing(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    later = event.start + datetime.timedelta(hours=2)
    response = post_change(
        admin_client,
        event,
        django_capture_on_commit_callbacks,
        start=later,
        end=later + datetime.timedelta(hours=1),
        send_update="no",
    )

    assert "No update was sent" in response.content.decode()
    assert Event.objects.get(pk=event.pk).start == later.replace(microsecond=0)
    assert mail.outbox == []
    assert sorted(Registration.objects.values_list("invite_sequence", flat=True)) == [0, 0]


def test_a_new_title_is_asked_with_no_preselected(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    response = post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title")

    page = response.content.decode()
    assert "Send an update to the 2 registrants?" in page
    assert re.search(r'value="no"[^>]*checked', page)
    assert Event.objects.get(pk=event.pk).title == event.title


def test_a_new_title_sent_on_request_reaches_calendars(
    admin_client, event, two_registrants, speaker, django_capture_on_commit_callbacks
):
    post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title", send_update="yes")

    messages = sent()
    assert len(messages) == 2
    for message in messages:
        assert message["Subject"].startswith("Updated: A better title")
        assert "The details of a talk you are registered for have changed." in html_body(message)
        _calendar, vevent, _part = invite(message)
        assert str(vevent["SUMMARY"]) == "A better title"
        assert vevent["SEQUENCE"] == 1


def test_a_resend_repeats_the_current_sequence_with_the_current_text(
    admin_client, event, two_registrants, django_capture_on_commit_callbacks
):
    post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title", send_update="no")
    assert mail.outbox == []
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, name="Ana", email="ana@example.edu")

    (message,) = sent()
    assert message["Subject"].startswith("Your registration: A better title")
    _calendar, vevent, _part = invite(message)
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["SUMMARY"]) == "A better title"


def test_a_talk_without_registrants_is_saved_without_asking(admin_client, event, django_capture_on_commit_callbacks):
    response = post_change(admin_client, event, django_capture_on_commit_callbacks, title="A better title")

    assert "Send an update" not in response.content.decode()
    assert Event.objects.get(pk=event.pk).title == "A better title"


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


def test_the_registration_page_shows_the_language_its_emails_are_written_in(admin_client, event, sign_up):
    registration = sign_up(event, language="es")

    page = admin_client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert re.search(r"Language:</label>\s*<div class=\"readonly\">Español</div>", page)

import datetime
import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from registrations import services
from registrations.models import Registration, RegistrationLog
from tests.admin_forms import inline_management_data
from tests.html import change_form, change_list
from tests.registrations.admin.changelist import REGISTRATIONS, read_csv, run_action

pytestmark = pytest.mark.django_db


# The registration list, a registration's page and the actions


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


def test_registration_search_finds_any_case_any_accent_and_international_domains(admin_client, make_event, sign_up):
    event = make_event()
    sign_up(event, name="José Ñúñez", email="jose@xn--mnchen-3ya.example", affiliation="Universität Wien")
    sign_up(event, name="Straße İnce", email="s@example.edu")
    sign_up(event, name="王小明", email="wang@example.edu")

    def names(query):
        response = admin_client.get(REGISTRATIONS, {"q": query})
        assert response.status_code == 200
        return {r.name for r in response.context["cl"].result_list}

    assert names("NUNEZ") == names("ñúñez jose") == names("münchen") == {"José Ñúñez"}
    assert names("STRASSE") == {"Straße İnce"}
    assert names("小明") == {"王小明"}
    assert names("wien") == {"José Ñúñez"}  # the affiliation, as before
    assert names("example.edu") == {"Straße İnce", "王小明"}
    assert names("%") == names("nobody") == set()
    # The list shows the address as it was typed, and sorts by it.
    listing = admin_client.get(REGISTRATIONS, {"o": "2"}).content.decode()
    assert "jose@münchen.example" in listing and "xn--" not in listing


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


def test_the_history_button_opens_the_registrations_own_history(
    admin_client, admin_user, make_event, sign_up, django_capture_on_commit_callbacks
):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event, name="Bo", email="bo@example.edu")
    services.cancel_registration(registration=holder, actor=admin_user)
    change_page = f"{REGISTRATIONS}{waiting.pk}/change/"
    data = {"name": "Bo Ek", "email": "bo@example.edu", "affiliation": "", "position": ""}
    assert admin_client.post(change_page, data | inline_management_data(admin_client, change_page)).status_code == 302

    page = admin_client.get(change_page).content.decode()
    (history_url,) = re.findall(r'<a href="([^"]+)" class="historylink"', page)
    response = admin_client.get(history_url)

    assert response.status_code == 200
    assert "doesn’t have a change history" not in response.content.decode()
    joined, promoted, edited = history_rows(response)
    assert joined | {"When": ""} == {
        "When": "",
        "Action": "Joined the waiting list",
        "From": "",
        "To": "Waiting list",
        "By": "The registrant or the system",
        "Note": "",
    }
    assert (promoted["Action"], promoted["From"], promoted["To"], promoted["By"]) == (
        "Promoted from the waiting list",
        "Waiting list",
        "Confirmed",
        "admin",
    )
    assert (edited["Action"], edited["By"], edited["Note"]) == ("Edited in the admin", "admin", "Changed Name.")


CELL = r"<t[hd][^>]*>(.*?)</t[hd]>"


def history_rows(response) -> list[dict]:
    """The rows of a history page's table, {column heading: cell text}, oldest first."""
    table = response.content.decode().split('id="change-history"', 1)[1].split("</table>", 1)[0]
    rows = [
        [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in re.findall(CELL, row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_history_page_query_count_does_not_depend_on_its_length(admin_client, event, sign_up):
    def queries(registration, entries):
        for n in range(entries):
            actor = get_user_model().objects.create_user(f"door-{registration.pk}-{n}", is_staff=True)
            RegistrationLog.objects.create(
                registration=registration, action=RegistrationLog.Action.CHECKED_IN, actor=actor, note="at the door"
            )
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(f"{REGISTRATIONS}{registration.pk}/history/")
        assert response.content.decode().count("at the door") == entries
        return len(captured)

    queries(sign_up(event), 0)  # fills the content type cache
    assert queries(sign_up(event), 1) == queries(sign_up(event), 6)


def test_the_list_writes_when_people_registered_and_came_with_the_zone_and_sorts_by_it(
    admin_client, make_event, sign_up
):
    event = make_event()
    moments = {
        "Winter": datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC),
        "Summer": datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC),
        "Autumn": datetime.datetime(2026, 11, 1, 7, 30, tzinfo=datetime.UTC),  # the second 1:30 AM of the night
    }
    for name, moment in moments.items():
        Registration.objects.filter(pk=sign_up(event, name=name).pk).update(created_at=moment)
    Registration.objects.filter(name="Winter").update(checked_in_at=moments["Winter"] + datetime.timedelta(hours=6))

    listing = change_list(admin_client.get(REGISTRATIONS).content.decode())

    by_name = {row["name"]: row for row in listing.rows}
    assert by_name["Winter"]["created_at"] == "Tue 15 Dec 2026, 11:00 AM CST"
    assert by_name["Summer"]["created_at"] == "Wed 1 Jul 2026, 11:00 AM CDT"
    assert by_name["Autumn"]["created_at"] == "Sun 1 Nov 2026, 1:30 AM CST"
    assert by_name["Winter"]["checked_in_at"] == "Tue 15 Dec 2026, 5:00 PM CST"
    assert by_name["Summer"]["checked_in_at"] == "-"
    # The list starts in order of registration (within a talk): the column's heading says so, and a
    # click on it turns the order round; a second click turns it back.
    assert listing.column("name") == ["Summer", "Autumn", "Winter"]
    newest_first = change_list(admin_client.get(REGISTRATIONS + listing.sort_links["created_at"]).content.decode())
    assert newest_first.column("name") == ["Winter", "Autumn", "Summer"]
    oldest_first = admin_client.get(REGISTRATIONS + newest_first.sort_links["created_at"]).content.decode()
    assert change_list(oldest_first).column("name") == ["Summer", "Autumn", "Winter"]
    assert "checked_in_at" in listing.sort_links


def test_the_list_costs_the_same_queries_whatever_its_length(admin_client, make_event, sign_up):
    event = make_event()
    Registration.objects.filter(pk=sign_up(event).pk).update(checked_in_at=timezone.now())
    admin_client.get(REGISTRATIONS)  # fills the content type cache, which other tests may have filled
    with CaptureQueriesContext(connection) as one:
        admin_client.get(REGISTRATIONS)
    for _ in range(9):
        Registration.objects.filter(pk=sign_up(make_event()).pk).update(checked_in_at=timezone.now())

    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get(REGISTRATIONS)

    assert len(response.context["cl"].result_list) == 10
    assert len(ten) == len(one)


def test_registrations_cannot_be_deleted_in_admin(admin_client, event, sign_up):
    registration = sign_up(event)

    assert admin_client.get(f"{REGISTRATIONS}{registration.pk}/delete/").status_code == 403
    assert "delete_selected" not in admin_client.get(REGISTRATIONS).content.decode()


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


@pytest.mark.parametrize(
    ("action", "question", "button"),
    [
        ("cancel_registrations", "Cancel these registrations?", "Yes, cancel them"),
        ("erase_personal_data", "Erase the personal data of these registrations?", "Yes, erase them"),
    ],
)
def test_cancelling_or_erasing_a_selection_asks_first_and_changes_nothing_until_confirmed(
    admin_client, make_event, sign_up, mailoutbox, action, question, button
):
    talk = make_event(title="Talk <b>one</b>")
    other = make_event(title="Talk two")
    chosen = [sign_up(talk), sign_up(talk), sign_up(other)]
    mailoutbox.clear()

    asked = run_action(admin_client, action, chosen, confirmed=False)

    page = asked.content.decode()
    assert question in page and button in page and "This cannot be undone." in page
    assert "Talk &lt;b&gt;one&lt;/b&gt;: 2 registrations" in page and "Talk two: 1 registration" in page
    assert sorted(int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', page)) == sorted(
        r.pk for r in chosen
    )
    assert not Registration.objects.filter(status=Registration.Status.CANCELLED).exists()
    assert not Registration.objects.filter(erased_at__isnull=False).exists() and not mailoutbox
    done = run_action(admin_client, action, chosen).content.decode()
    assert ("Cancelled 3 registrations" in done) or ("Erased the personal data of 3 registrations." in done)
    assert Registration.objects.filter(status=Registration.Status.CANCELLED).count() == 3


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


def test_the_registration_page_shows_the_language_its_emails_are_written_in(admin_client, event, sign_up):
    registration = sign_up(event, language="es")

    page = admin_client.get(f"{REGISTRATIONS}{registration.pk}/change/").content.decode()

    assert re.search(r"Language:</label>\s*<div class=\"readonly\">Español</div>", page)


# The Organizers group


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
    # Links and edits are made on their own pages; the admin lists them (and revokes, with change_event).
    expected |= {"speaker_edits.view_speakerinvitation", "speaker_edits.view_speakeredit"}
    # A talk's slides and recordings, and the emails saying they are up.
    expected |= {
        f"materials.{verb}_{model}"
        for model in ("material", "announcement")
        for verb in ("view", "add", "change", "delete")
    }
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


def test_a_registrations_page_and_its_history_write_their_times_with_the_zone(
    admin_client, admin_user, make_event, sign_up
):
    registration = sign_up(make_event(), name="Ana")
    winter = datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC)
    summer = datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC)
    came = winter + datetime.timedelta(hours=6)
    Registration.objects.filter(pk=registration.pk).update(created_at=summer, checked_in_at=came)
    registration.log.update(created_at=summer)
    checked_in = RegistrationLog.objects.create(
        registration=registration, action=RegistrationLog.Action.CHECKED_IN, actor=admin_user
    )
    RegistrationLog.objects.filter(pk=checked_in.pk).update(created_at=came)
    change_page = f"{REGISTRATIONS}{registration.pk}/change/"
    data = {"name": "Ana Ek", "email": registration.email, "affiliation": "", "position": ""}
    assert admin_client.post(change_page, data | inline_management_data(admin_client, change_page)).status_code == 302
    LogEntry.objects.update(action_time=datetime.datetime(2026, 11, 1, 7, 30, tzinfo=datetime.UTC))

    page = change_form(admin_client.get(change_page).content.decode())
    history = history_rows(admin_client.get(f"{REGISTRATIONS}{registration.pk}/history/"))

    assert page.fields["created_at"] == "Wed 1 Jul 2026, 11:00 AM CDT"
    assert page.fields["checked_in_at"] == "Tue 15 Dec 2026, 5:00 PM CST"
    assert page.fields["cancelled_at"] == page.fields["hold_until"] == "-"
    log = page.tables["log-group"]
    assert log.headings["created_at"] == "When"
    assert log.column("action") == ["Registered (confirmed)", "Checked in"]
    assert log.column("created_at") == ["Wed 1 Jul 2026, 11:00 AM CDT", "Tue 15 Dec 2026, 5:00 PM CST"]
    assert [(row["Action"], row["When"]) for row in history] == [
        ("Registered (confirmed)", "Wed 1 Jul 2026, 11:00 AM CDT"),
        ("Edited in the admin", "Sun 1 Nov 2026, 1:30 AM CST"),  # the second 1:30 AM of that night
        ("Checked in", "Tue 15 Dec 2026, 5:00 PM CST"),
    ]

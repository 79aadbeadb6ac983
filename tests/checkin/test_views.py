import datetime
import io
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from events.models import Event, Series, SeriesMember
from registrations import services
from registrations.models import Registration, RegistrationLog
from tests.mime import html_body, sent, text_body
from tests.qr import qr_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def dora(make_team_member, series):
    return make_team_member(series, "dora", role=SeriesMember.Role.DOOR)


@pytest.fixture
def stranger_organizer(make_team_member):
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    return make_team_member(other, "bob")


def decode(png: bytes) -> str:
    [text] = qr_codes(Image.open(io.BytesIO(png)))
    return text


# The ticket: QR code in the emails and on the registrant's page


def test_confirmation_email_carries_the_check_in_qr_inline_by_content_id(
    event, sign_up, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name="Ana, López", email="ana@example.edu")

    [message] = sent()
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_body(message)
    assert decode(images[0].get_content()) == registration.checkin_url
    assert registration.checkin_url in text_body(message)
    assert registration.checkin_url != registration.manage_url
    assert registration.token not in registration.checkin_url


def test_reminder_email_carries_the_qr_too(make_event, sign_up, django_capture_on_commit_callbacks):
    event = make_event(start=timezone.now() + datetime.timedelta(hours=3))
    registration = sign_up(event)
    # Registered before the reminder time (people who sign up later get no reminder).
    Registration.objects.filter(pk=registration.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_due_reminders() == 1

    [message] = sent()
    assert message["Subject"].startswith("Reminder")
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert decode(image.get_content()) == registration.checkin_url


def test_waiting_list_email_has_no_ticket(make_event, sign_up, django_capture_on_commit_callbacks):
    event = make_event(capacity=0)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(event)
    [message] = sent()
    assert not [part for part in message.walk() if part.get_content_type() == "image/png"]


def test_self_service_page_shows_the_ticket(client, event, sign_up):
    registration = sign_up(event)

    page = client.get(registration.get_absolute_url()).content.decode()
    png = client.get(reverse("registrations:ticket_png", args=[registration.token]))

    assert reverse("registrations:ticket_png", args=[registration.token]) in page
    assert png["Content-Type"] == "image/png"
    assert decode(png.content) == registration.checkin_url


# Scanning a ticket


def test_stranger_who_scans_a_ticket_sees_nothing_personal_and_checks_no_one_in(client, event, sign_up):
    registration = sign_up(event, name="Ana Secret", affiliation="Hidden Lab")

    shown = client.get(reverse("checkin:scan", args=[registration.checkin_token]))
    posted = client.post(reverse("checkin:scan", args=[registration.checkin_token]))

    for response in (shown, posted):
        assert response.status_code == 403
        html = response.content.decode()
        assert "Ana Secret" not in html and "Hidden Lab" not in html and registration.email not in html
        assert "Staff: sign in to check this person in" in html
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_another_series_organizer_cannot_check_in(client, event, sign_up, stranger_organizer):
    registration = sign_up(event, name="Ana Secret")
    client.force_login(stranger_organizer)

    response = client.post(reverse("checkin:scan", args=[registration.checkin_token]))

    assert response.status_code == 403
    page = response.content.decode()
    assert "Ana Secret" not in page and event.title not in page
    # Signed in already: not asked to sign in, told the talk is not theirs.
    assert "This code is for a talk you do not staff" in page and "sign in" not in page
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_door_staff_see_the_person_and_check_in_with_one_tap(client, event, sign_up, dora):
    registration = sign_up(event, name="Ana López", affiliation="Oden Institute")
    client.force_login(dora)
    url = reverse("checkin:scan", args=[registration.checkin_token])

    page = client.get(url).content.decode()
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()

    assert "Ana López" in page and "Oden Institute" in page and "Confirmed" in page
    assert "Ana López is checked in." in first
    registration.refresh_from_db()
    assert "already checked in at" in second
    assert RegistrationLog.objects.filter(registration=registration, action="checked_in", actor=dora).count() == 1


@pytest.mark.parametrize("mangle", ["forged", "altered", "manage-token"])
def test_forged_or_altered_check_in_links_are_refused(client, event, sign_up, dora, mangle):
    registration = sign_up(event)
    token = {
        "forged": f"{registration.key}:not-a-signature",
        "altered": registration.checkin_token[:-2] + ("AA" if not registration.checkin_token.endswith("AA") else "BB"),
        "manage-token": registration.token,
    }[mangle]
    client.force_login(dora)

    response = client.post(reverse("checkin:scan", args=[token]))

    assert response.status_code == 404
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_check_in_token_cannot_open_the_self_service_page(client, event, sign_up):
    registration = sign_up(event)
    assert client.get(reverse("registrations:manage", args=[registration.checkin_token])).status_code == 404
    assert client.get(reverse("registrations:cancel", args=[registration.checkin_token])).status_code == 404


def test_cancelled_registration_ticket_is_refused(client, event, sign_up, dora):
    registration = sign_up(event)
    services.cancel_registration(registration=registration)
    client.force_login(dora)
    url = reverse("checkin:scan", args=[registration.checkin_token])

    page = client.get(url).content.decode()
    client.post(url)

    assert "Not a confirmed seat" in page
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


# The check-in page of a talk


def door_page(client, event, **params):
    return client.get(reverse("checkin:event", args=[event.pk]), params)


def test_door_page_counts_searches_and_shows_every_status(client, make_event, sign_up, dora):
    event = make_event(capacity=2)
    ana = sign_up(event, name="Ana López", email="ana@example.edu")
    sign_up(event, name="Bob Stone", email="bob@example.edu")
    sign_up(event, name="Cara Wait", email="cara@example.edu")
    services.check_in(registration=ana)
    client.force_login(dora)

    everyone = door_page(client, event).content.decode()
    found = door_page(client, event, q="BOB@example").content.decode()

    assert "1 of 2 here" in everyone
    assert "Waiting list (no seat)" in everyone and "Here since" in everyone
    assert "Bob Stone" in found and "Ana López" not in found and "Cara Wait" not in found


def test_door_page_of_another_series_is_not_found(client, event, stranger_organizer):
    client.force_login(stranger_organizer)
    assert door_page(client, event).status_code == 404
    assert client.post(reverse("checkin:no_shows", args=[event.pk])).status_code == 404


def test_door_staff_reach_the_door_pages_of_their_series(client, event, dora):
    client.force_login(dora)
    assert client.get(reverse("checkin:index")).status_code == 200
    assert door_page(client, event).status_code == 200


def test_check_in_and_undo_from_the_list_keep_the_search(client, event, sign_up, dora):
    registration = sign_up(event, name="Ana")
    client.force_login(dora)
    back = reverse("checkin:event", args=[event.pk]) + "?q=ana"

    checked = client.post(reverse("checkin:check_in", args=[event.pk, registration.pk]), {"next": back})
    assert checked["Location"] == back
    assert Registration.objects.get(pk=registration.pk).checked_in_at is not None
    client.post(reverse("checkin:undo", args=[event.pk, registration.pk]), {"next": "https://evil.example/"})
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_walk_in_form_over_capacity_only_when_ticked(client, make_event, sign_up, dora):
    event = make_event(capacity=1)
    sign_up(event)
    client.force_login(dora)
    url = reverse("checkin:walk_in", args=[event.pk])
    data = {"name": "Wal <script>", "email": "wal@example.edu", "affiliation": "", "position": ""}

    refused = client.post(url, data)
    admitted = client.post(url, data | {"over_capacity": "on"}, follow=True)

    assert refused.status_code == 400
    assert "Choose “over capacity”" in refused.content.decode()
    assert "Wal &lt;script&gt; is checked in." in admitted.content.decode()
    assert Registration.objects.get(email="wal@example.edu").checked_in_at is not None


@pytest.mark.parametrize("name", ["A\r\nBcc: x@example.com", "\u202eA", "A\x00"])
def test_walk_in_form_refuses_line_breaks_and_direction_controls(client, event, dora, name):
    client.force_login(dora)
    response = client.post(reverse("checkin:walk_in", args=[event.pk]), {"name": name, "email": "a@example.edu"})
    assert response.status_code == 400
    assert "Please write this on one line" in response.content.decode()
    assert not Registration.objects.filter(email="a@example.edu").exists()


def test_no_show_button_marks_the_rest(client, make_event, sign_up, dora):
    event = make_event(capacity=2)
    came, missed = sign_up(event), sign_up(event)
    services.check_in(registration=came)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    client.force_login(dora)

    response = client.post(reverse("checkin:no_shows", args=[event.pk]), follow=True)

    assert "1 marked as no-show." in response.content.decode()
    assert Registration.objects.get(pk=missed.pk).no_show_at is not None


def test_talk_admin_links_to_its_check_in_page(admin_client, event):
    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert reverse("checkin:event", args=[event.pk]) in page


# In the room and online


@pytest.fixture
def hybrid(make_event):
    return make_event(attendance_mode="hybrid", capacity=2, online_capacity=1, stream_url="https://zoom.example/j/1")


def test_hybrid_door_page_counts_the_room_and_online_apart(client, hybrid, sign_up, dora):
    ana = sign_up(hybrid, name="Ana Room", attendance="in_person")
    sign_up(hybrid, name="Bob Room", attendance="in_person")
    sign_up(hybrid, name="Cy Waiting", attendance="in_person")
    sign_up(hybrid, name="Ona Line", attendance="online")
    sign_up(hybrid, name="Otto Queue", attendance="online")
    services.check_in(registration=ana)
    client.force_login(dora)

    response = door_page(client, hybrid)
    html = " ".join(response.content.decode().split())

    room = Registration.objects.filter(event=hybrid, attendance="in_person", status="confirmed")
    online = Registration.objects.filter(event=hybrid, attendance="online")
    here = room.filter(checked_in_at__isnull=False).count()
    assert (here, room.count()) == (1, 2)
    assert f"{here} of {room.count()} here" in html
    assert f"Also {online.filter(status='confirmed').count()} attends online (not checked in at the door)." in html
    assert "1 waits for an online place." in html
    names = [person.name for person in response.context["people"]]
    assert names == ["Ana Room", "Bob Room", "Cy Waiting", "Ona Line", "Otto Queue"]
    assert "Attends online (no seat in the room)" in html and "Waiting for an online place" in html
    assert 'Check in<span class="visually-hidden"> Ona Line' not in html
    assert 'Check in<span class="visually-hidden"> Bob Room' in html


def test_online_only_talk_has_no_door(client, make_event, sign_up, dora):
    event = make_event(attendance_mode="online", title="Only online")
    sign_up(event, name="Ona Line", attendance="online")
    client.force_login(dora)

    html = door_page(client, event).content.decode()
    index = client.get(reverse("checkin:index")).content.decode()

    assert "1 attends online" in html
    assert "nobody is checked in at a door" in html
    assert "Ona Line" not in html and "Add a walk-in" not in html
    assert "Only online" not in index


def test_online_registrant_ticket_checks_no_one_in(client, hybrid, sign_up, dora):
    registration = sign_up(hybrid, name="Ona Line", attendance="online")
    client.force_login(dora)
    url = reverse("checkin:scan", args=[registration.checkin_token])

    page = client.get(url).content.decode()
    client.post(url)

    assert "Registered to attend online" in page
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_online_places_come_without_a_ticket(client, hybrid, sign_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(hybrid, attendance="online")

    [message] = sent()
    assert not [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert registration.checkin_url not in text_body(message)
    assert "Your check-in code" not in client.get(registration.get_absolute_url()).content.decode()
    assert client.get(reverse("registrations:ticket_png", args=[registration.token])).status_code == 404


# A thousand people at the door


def crowd(event, count, *, start=0):
    """`count` confirmed registrations in one statement (the services would send `count` emails)."""
    Registration.objects.bulk_create(
        Registration(event=event, name=f"Person {n:04d}", email=f"p{n}@example.edu", status="confirmed")
        for n in range(start, start + count)
    )
    Event.objects.filter(pk=event.pk).update(seats_taken=Registration.objects.filter(event=event).count())


@pytest.fixture
def big_talk(make_event):
    return make_event(capacity=2000)


def test_door_page_queries_do_not_grow_with_the_audience(client, big_talk, dora, django_assert_max_num_queries):
    client.force_login(dora)
    crowd(big_talk, 10)
    door_page(client, big_talk)  # warm the session and permission caches alike for both counts
    with django_assert_max_num_queries(8) as small:
        door_page(client, big_talk, q="person")
    crowd(big_talk, 990, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = door_page(client, big_talk, q="person")
    assert response.context["counts"]["matching"] == 1000


def test_a_check_in_reads_the_talk_once(client, big_talk, dora, django_assert_num_queries):
    crowd(big_talk, 10)
    arriving = Registration.objects.get(event=big_talk, email="p3@example.edu")
    client.force_login(dora)
    back = reverse("checkin:event", args=[big_talk.pk]) + "?q=p3%40"

    # The session and the staff member, their permissions (their own, their role's group), the talk
    # within their series, the registration; then a savepoint (inside the test's transaction), the
    # registration locked, its check-in time, the history entry, release.
    with django_assert_num_queries(11):
        response = client.post(reverse("checkin:check_in", args=[big_talk.pk, arriving.pk]), {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    arriving.refresh_from_db()
    assert arriving.checked_in_at is not None


def test_a_big_door_list_is_shown_in_part_with_the_total(client, big_talk, dora):
    from checkin.views import DOOR_LIST_LIMIT

    crowd(big_talk, 1000)
    client.force_login(dora)

    response = door_page(client, big_talk)
    html = response.content.decode()

    assert len(response.context["people"]) == DOOR_LIST_LIMIT
    assert [p.name for p in response.context["people"]][:2] == ["Person 0000", "Person 0001"]
    assert html.count('class="door__person ') == DOOR_LIST_LIMIT
    assert f"Showing {DOOR_LIST_LIMIT} of 1000 people. Search to find the rest." in html
    assert "0 of 1000 here" in html
    assert "data-complete" not in html  # the page's script cannot search what it does not have
    assert len(response.content) < 60_000


@pytest.mark.parametrize("query", ["person 0999", "P999@EXAMPLE", "0999 person", "  person\t0999 "])
def test_search_finds_anyone_of_a_thousand_by_name_or_email_in_any_case(client, big_talk, dora, query):
    crowd(big_talk, 1000)
    client.force_login(dora)

    response = door_page(client, big_talk, q=query)

    assert [p.name for p in response.context["people"]] == ["Person 0999"]
    assert "Showing" not in response.content.decode()
    assert "data-complete" in response.content.decode()


def test_search_with_accents_and_other_scripts(client, event, sign_up, dora):
    sign_up(event, name="José Ñúñez", email="jose@münchen.example")
    sign_up(event, name="王小明", email="wang@example.edu")
    sign_up(event, name="Zoë O'Brien, Jr.", email="zoe@example.edu")
    client.force_login(dora)

    def found(q):
        return [p.name for p in door_page(client, event, q=q).context["people"]]

    assert found("ñúñez") == ["José Ñúñez"]
    assert found("münchen") == ["José Ñúñez"]
    assert found("小明") == ["王小明"]
    assert found("o'brien, jr") == ["Zoë O'Brien, Jr."]
    assert found("%") == [] and found("_") == []


def test_search_ignores_letter_case_and_accents_beyond_ascii(client, event, sign_up, dora):
    sign_up(event, name="José Ñúñez", email="jose@example.edu")
    sign_up(event, name="Straße İnce", email="s@example.edu")
    client.force_login(dora)

    def found(q):
        return [p.name for p in door_page(client, event, q=q).context["people"]]

    assert found("ÑÚÑEZ") == found("nunez") == found("JOSE") == ["José Ñúñez"]
    assert found("STRASSE") == found("ince") == ["Straße İnce"]


def test_a_renamed_or_erased_registrant_is_found_by_what_they_are_now(client, event, sign_up, dora):
    renamed, erased = sign_up(event, name="Old Name"), sign_up(event, name="Gone Person")
    renamed.name = "Nuevo Nombre"
    renamed.save()
    services.erase_personal_data(registrations=[erased])
    client.force_login(dora)

    assert [p.pk for p in door_page(client, event, q="nuevo").context["people"]] == [renamed.pk]
    assert door_page(client, event, q="old name").context["people"] == []
    assert door_page(client, event, q="gone").context["people"] == []
    assert Registration.objects.get(pk=erased.pk).search_key == ""


def test_the_door_search_reaches_the_talks_rows_through_an_index(big_talk, require_postgres):
    from django.db import connection

    from checkin.views import door_list

    crowd(big_talk, 1000)
    people, _counts = door_list(big_talk, "person 0999")
    assert [p.name for p in people] == ["Person 0999"]
    queryset = Registration.objects.filter(event=big_talk).matching("0999")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "registrations_registration_event" in plan.lower() or "registrati_event_" in plan.lower(), plan


# A seat held until its person confirms by email: listed in words, checked in on the spot.


@pytest.fixture
def door(client, dora):
    client.force_login(dora)
    return client


def test_the_door_lists_a_held_seat_in_words_and_checking_in_confirms_it(door, make_event):
    event = make_event(capacity=5)
    services.register(event=event, name="Ana Confirmed", email="ana@example.edu")
    held = services.register(event=event, name="Bo Held", email="bo@example.edu", signups_from_address=11).registration

    page = door.get(reverse("checkin:event", args=[event.pk]))
    html = " ".join(page.content.decode().split())
    assert "0 of 1 here" in html and "(and 1 seat held until confirmed by email)" in html
    assert "Seat held, not yet confirmed by email: checking in confirms it" in html
    assert html.index("Ana Confirmed") < html.index("Bo Held")

    response = door.post(reverse("checkin:check_in", args=[event.pk, held.pk]), follow=True)

    assert "Bo Held is checked in." in response.content.decode()
    held.refresh_from_db()
    assert (held.status, held.hold_until) == (Registration.Status.CONFIRMED, None)
    assert held.checked_in_at is not None
    event.refresh_from_db()
    assert event.seats_taken == 2


def test_a_walk_in_with_a_held_seat_is_checked_in_on_it(door, make_event):
    event = make_event(capacity=1)
    held = services.register(event=event, name="Bo", email="bo@example.edu", signups_from_address=11).registration

    response = door.post(
        reverse("checkin:walk_in", args=[event.pk]),
        {"name": "Bo", "email": "BO@example.edu", "affiliation": "", "position": ""},
        follow=True,
    )

    assert response.status_code == 200
    held.refresh_from_db()
    assert held.status == Registration.Status.CONFIRMED and held.checked_in_at is not None
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (1, 1)


def test_once_the_talk_is_over_the_door_page_says_who_came_and_changes_nothing(client, event, sign_up, dora):
    came, missed = sign_up(event, name="Ana Came"), sign_up(event, name="Ben Missed")
    services.check_in(registration=came)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    client.force_login(dora)

    page = " ".join(door_page(client, event).content.decode().split())

    assert "This talk is over: the door is closed. The list shows who came." in page
    assert "1 of 2 came" in page and "Did not come" in page and "Here since" in page
    # No button that would only be refused: no check-in, no undo, no walk-in; marking no-shows stays.
    assert reverse("checkin:check_in", args=[event.pk, missed.pk]) not in page
    assert reverse("checkin:undo", args=[event.pk, came.pk]) not in page
    assert "Add a walk-in" not in page
    assert reverse("checkin:no_shows", args=[event.pk]) in page
    # A search that finds nobody does not send staff to a walk-in form that is not there.
    nobody = " ".join(door_page(client, event, q="zzz").content.decode().split())
    assert "Nobody matches “zzz”." in nobody and "Add them as a walk-in" not in nobody
    # A form posted from a page opened before the end is refused with a message, and changes nothing.
    response = client.post(reverse("checkin:undo", args=[event.pk, came.pk]), follow=True)
    assert "This talk is over." in response.content.decode()
    assert Registration.objects.get(pk=came.pk).checked_in_at is not None


def test_the_door_page_of_a_talk_on_a_later_day_warns_that_check_ins_count(client, make_event, dora):
    later = make_event()  # in two weeks
    today = make_event()
    # A minute past midnight of today where the talk is: on its day whatever the hour the test runs.
    midnight = timezone.localtime(timezone.now(), today.local_time_zone).replace(hour=0, minute=1, second=0)
    Event.objects.filter(pk=today.pk).update(start=midnight, end=midnight + datetime.timedelta(hours=1))
    client.force_login(dora)

    early = " ".join(door_page(client, later).content.decode().split())
    on_the_day = " ".join(door_page(client, today).content.decode().split())

    assert "This talk is not today" in early and "a check-in counts them as having come" in early
    assert "This talk is not today" not in on_the_day


def test_a_cancelled_talk_is_marked_at_the_door_and_its_door_is_closed(client, make_event, sign_up, dora):
    talk = make_event(title="Called off")
    ana = sign_up(talk, name="Ana Early")
    Event.objects.filter(pk=talk.pk).update(status=Event.Status.CANCELLED)
    client.force_login(dora)

    listing = " ".join(client.get(reverse("checkin:index")).content.decode().split())
    page = " ".join(door_page(client, talk).content.decode().split())

    assert re.search(
        r"Called off</a> <span class=\"muted\">[^<]*</span> <span class=\"badge badge--cancelled\">Cancelled", listing
    )
    assert "This talk was cancelled: the door is closed." in page
    assert reverse("checkin:check_in", args=[talk.pk, ana.pk]) not in page and "Add a walk-in" not in page
    assert "Did not come" not in page and "This talk is not today" not in page

"""The door on a phone: sign in, find a person, check them in and undo, by keyboard alone; axe clean."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from playwright.sync_api import expect

from events.models import SeriesMember
from registrations.models import Registration

from .axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def door_keeper(series):
    # Browser tests flush the database after each test, taking the groups that
    # migrations create with them: give the role's group its permission again.
    group, _ = Group.objects.get_or_create(name=SeriesMember.ROLE_GROUPS[SeriesMember.Role.DOOR])
    group.permissions.add(Permission.objects.get(codename="check_in_registration"))
    user = get_user_model().objects.create_user("dora", password="correct horse battery")
    SeriesMember.objects.create(series=series, user=user, role=SeriesMember.Role.DOOR)
    return user


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def door_page(new_page, series, make_event, sign_up):
    event = make_event(capacity=2)
    sign_up(event, name="Ana López", email="ana@example.edu", affiliation="Oden Institute")
    sign_up(event, name="Bob Stone", email="bob@example.edu")
    sign_up(event, name="Cara Wait", email="cara@example.edu")
    door_keeper(series)

    page = new_page(**PHONE)
    page.goto(reverse("checkin:event", args=[event.pk]))
    # Signing in, by keyboard too.
    page.get_by_label("Username:").fill("dora")
    page.get_by_label("Password:").fill("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=event.title)).to_be_visible()
    return page, event


def test_search_and_check_in_by_keyboard_at_phone_width(door_page):
    page, _event = door_page
    expect(page.get_by_role("status").filter(has_text="here")).to_have_text("0 of 2 here")
    assert_accessible(page)

    search = page.get_by_label("Find a person (name or email)")
    search.focus()
    page.keyboard.type("bob")
    expect(page.get_by_role("listitem").filter(has_text="Ana López")).to_be_hidden()
    expect(page.get_by_role("listitem").filter(has_text="Bob Stone")).to_be_visible()
    page.keyboard.press("Enter")  # filtered in place: no reload needed
    page.keyboard.press("Tab")  # the search button
    page.keyboard.press("Tab")  # Bob's check-in button
    expect(page.get_by_role("button", name="Check in Bob Stone")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Bob Stone is checked in.")).to_be_visible()
    expect(page.get_by_text("1 of 2 here")).to_be_visible()
    expect(page.get_by_text(re.compile("Here since .*"))).to_be_visible()
    assert Registration.objects.get(email="bob@example.edu").checked_in_at is not None
    assert_accessible(page)

    undo = page.get_by_role("button", name="Undo check-in of Bob Stone")
    undo.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Check-in of Bob Stone undone.")).to_be_visible()
    assert Registration.objects.get(email="bob@example.edu").checked_in_at is None


def test_the_list_filters_as_you_type_as_the_server_searches(door_page, sign_up):
    page, event = door_page
    sign_up(event, name="José Ñúñez", email="jose@xn--mnchen-3ya.example")
    sign_up(event, name="Straße İnce", email="s@example.edu")
    page.reload()
    search = page.get_by_label("Find a person (name or email)")
    people = page.get_by_role("listitem")

    # Any letter case, any accent, an international domain as people type it: as the server's search.
    for typed, name in [
        ("nunez", "José Ñúñez"),
        ("ÑÚÑEZ  josé", "José Ñúñez"),
        ("münchen", "José Ñúñez"),
        ("STRASSE", "Straße İnce"),
        ("straße ince", "Straße İnce"),
    ]:
        search.fill(typed)
        expect(people.filter(has_text=name)).to_be_visible()
        expect(people.filter(has_text="Ana López")).to_be_hidden()
    search.fill("nobody")
    expect(people.filter(has_text="José Ñúñez")).to_be_hidden()
    expect(people.filter(has_text="Straße İnce")).to_be_hidden()


def test_search_works_without_javascript(browser, live_server, series, make_event, sign_up, new_page):
    event = make_event(capacity=2)
    sign_up(event, name="Ana López", email="ana@example.edu")
    sign_up(event, name="Bob Stone", email="bob@example.edu")
    door_keeper(series)
    page = new_page(java_script_enabled=False, **PHONE)
    page.goto(reverse("checkin:event", args=[event.pk]))
    page.get_by_label("Username:").fill("dora")
    page.get_by_label("Password:").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    page.get_by_label("Find a person (name or email)").fill("ana@")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"\?q=ana%40$"))
    expect(page.get_by_role("listitem").filter(has_text="Ana López")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Bob Stone")).to_have_count(0)
    page.get_by_role("button", name="Check in Ana López").click()
    expect(page.get_by_text("Ana López is checked in.")).to_be_visible()


def test_a_long_list_is_searched_on_the_server_by_keyboard(new_page, series, make_event):
    from checkin.views import DOOR_LIST_LIMIT

    event = make_event(capacity=200)
    Registration.objects.bulk_create(
        Registration(event=event, name=f"Person {n:03d}", email=f"p{n}@example.edu", status="confirmed")
        for n in range(DOOR_LIST_LIMIT + 10)
    )
    event.__class__.objects.filter(pk=event.pk).update(seats_taken=DOOR_LIST_LIMIT + 10)
    door_keeper(series)
    page = new_page(**PHONE)
    page.goto(reverse("checkin:event", args=[event.pk]))
    page.get_by_label("Username:").fill("dora")
    page.get_by_label("Password:").fill("correct horse battery")
    page.keyboard.press("Enter")

    total = DOOR_LIST_LIMIT + 10
    expect(page.get_by_text(f"Showing {DOOR_LIST_LIMIT} of {total} people. Search to find the rest.")).to_be_visible()
    expect(page.locator(".door__person")).to_have_count(DOOR_LIST_LIMIT)
    assert_accessible(page)

    page.get_by_label("Find a person (name or email)").focus()
    page.keyboard.type(f"PERSON {total - 1:03d}")  # beyond the part shown: the server finds them
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"\?q=PERSON\+{total - 1:03d}$"))
    expect(page.locator(".door__person")).to_have_count(1)
    expect(page.get_by_text(f"1 person matches “PERSON {total - 1:03d}”.")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=f"Check in Person {total - 1:03d}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Person {total - 1:03d} is checked in.")).to_be_visible()
    expect(page.get_by_text(f"1 of {total} here")).to_be_visible()
    assert_accessible(page)


def test_hybrid_door_shows_online_people_apart(door_page, sign_up):
    page, event = door_page
    event.__class__.objects.filter(pk=event.pk).update(attendance_mode="hybrid")
    event.refresh_from_db()
    sign_up(event, name="Ona Line", email="ona@example.edu", attendance="online")
    page.reload()

    expect(page.get_by_text("Also 1 attends online (not checked in at the door).")).to_be_visible()
    online = page.get_by_role("listitem").filter(has_text="Ona Line")
    expect(online).to_contain_text("Attends online (no seat in the room)")
    expect(online.get_by_role("button")).to_have_count(0)
    assert_accessible(page)

"""The talk's own questions: answered with the keyboard alone, set up and exported by an organizer."""

import csv
import io
import re
from importlib import import_module

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from events.models import SeriesMember
from registrations import services
from registrations.models import Registration
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def organizer(username, password, series):
    """A staff account in the Organizers group, which a transactional test's flush removed: made again
    from the permissions the data migrations grant; on the team of `series` (staff see only their series)."""
    group, _ = Group.objects.get_or_create(name="Organizers")
    for migration in ("0002_organizers_group", "0004_organizers_question_permissions"):
        for app_label, models in import_module(f"registrations.migrations.{migration}").PERMISSIONS.items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{verb}_{model}" for model, verbs in models.items() for verb in verbs],
                )
            )
    user = get_user_model().objects.create_user(username, password=password, is_staff=True)
    user.groups.add(group)
    SeriesMember.objects.create(series=series, user=user, role=SeriesMember.Role.ORGANIZER)
    return user


def focused(page) -> str:
    """The id of the element that has the keyboard focus."""
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def tab_to(page, target, *, limit=60, backwards=False):
    """Press Tab until `target` (an element id or a locator) has the focus, as a keyboard user would."""
    locator = page.locator(f"#{target}") if isinstance(target, str) else target
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} never got the focus by Tab (last: #{focused(page)})")


def test_registering_with_questions_by_keyboard_alone(page, make_event, ask):
    event = make_event()
    diet = ask(event, "Dietary restrictions for lunch?")
    lunch = ask(event, "Will you join us for lunch?", kind="yes_no", required=True)
    topics = ask(event, "Topics you work on", kind="multiple_choice", choices=["Vision", "Language", "Theory"])
    notes = ask(event, "Anything else we should know?", kind="long_text")

    page.goto(event.get_absolute_url())
    tab_to(page, "id_name")
    page.keyboard.type("Zoë Ñúñez")
    tab_to(page, "id_email")
    page.keyboard.type("zoe@")  # a slip
    tab_to(page, f"id_question_{diet.pk}")
    page.keyboard.type("No nuts, please")
    tab_to(page, f"id_question_{topics.pk}_2")
    page.keyboard.press("Space")
    tab_to(page, f"id_question_{notes.pk}")
    page.keyboard.type("I use a wheelchair.")
    tab_to(page, "id_name", backwards=True)
    page.keyboard.press("Enter")  # submits the form, the lunch question unanswered and no consent

    # The summary has the focus, so it is read out first; every error links to its field.
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    links = summary.get_by_role("link")
    expect(links).to_have_text(
        [
            "Email: Enter a valid email address.",
            "Will you join us for lunch? Please answer this question.",
            "Privacy notice: Please agree to the privacy notice so we can keep your registration.",
        ]
    )
    email = page.get_by_label("Email:", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("Enter a valid email address."))
    expect(page.get_by_role("group", name="Will you join us for lunch?")).to_have_accessible_description(
        "Please answer this question."
    )
    # What was typed is still there.
    expect(page.get_by_label("Dietary restrictions for lunch?")).to_have_value("No nuts, please")
    expect(page.get_by_label("Theory")).to_be_checked()
    assert_accessible(page)

    page.keyboard.press("Tab")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(email).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type("example.edu")

    tab_to(page, links.nth(1), backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator(f"#id_question_{lunch.pk}_0")).to_be_focused()
    page.keyboard.press("ArrowDown")  # moves to "No" and picks it
    expect(page.get_by_label("No", exact=True)).to_be_checked()

    tab_to(page, "id_consent")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Register")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you, your seat is confirmed")).to_be_visible()
    registration = Registration.objects.get()
    assert registration.email == "zoe@example.edu"
    assert {answer.question.label: answer.value for answer in registration.answers.select_related("question")} == {
        "Dietary restrictions for lunch?": "No nuts, please",
        "Will you join us for lunch?": "no",
        "Topics you work on": "Theory",
        "Anything else we should know?": "I use a wheelchair.",
    }
    expect(page.get_by_text("No nuts, please")).to_be_visible()


def test_organizer_adds_a_question_then_downloads_the_answers(page, make_event, live_server):
    event = make_event(title="Generating a Video")
    make_event(title="Another talk")
    organizer("maria", "a long organizer passphrase", event.series)

    page.goto("/admin/")
    page.get_by_label("Username:").fill("maria")
    page.get_by_label("Password:").fill("a long organizer passphrase")
    page.get_by_role("button", name="Log in").click()

    # From the dashboard's row of the talk to its page.
    page.get_by_role("row").filter(has_text="Generating a Video").get_by_role("link", name="Edit").click()
    page.get_by_text("Add another Question").click()
    question = page.locator("#questions-0")
    question.get_by_label("Question:").fill("Dietary restrictions for lunch?")
    question.get_by_label("Kind of answer:").select_option("short_text")
    question.get_by_label("Help text:").fill("We order food for everyone who registers.")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    # Someone registers and answers it.
    asked = event.questions.get()
    services.register(event=event, name="Ana Ortiz", email="ana@example.edu", answers={asked.pk: "=vegan"})
    services.register(event=event, name="Ben Okafor", email="ben@example.edu")

    page.locator("#nav-sidebar").get_by_role("link", name="Registrations", exact=True).last.click()
    page.get_by_role("link", name="Generating a Video", exact=True).click()  # the talk filter
    expect(page.get_by_text("2 registrations")).to_be_visible()
    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name="Action:").select_option(label="Export selected registrations as CSV")
    with page.expect_download() as download:
        page.get_by_role("button", name="Run").click()

    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    header = rows[0]
    column = header.index("Dietary restrictions for lunch?")
    assert {row[header.index("Name")]: row[column] for row in rows[1:]} == {"Ana Ortiz": "'=vegan", "Ben Okafor": ""}

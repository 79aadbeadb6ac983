"""An organizer schedules a talk again from the talk list: an ordinary admin form, not a deletion."""

import pytest
from playwright.sync_api import expect

from events.models import Event
from tests.browser.axe import assert_accessible
from tests.browser.test_questions import organizer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def css_colour(page, expression: str) -> str:
    """`expression` (a colour, or var(--name)) as the browser computes it on a throwaway element."""
    return page.evaluate(
        """(expression) => {
            const probe = document.createElement("div");
            probe.style.backgroundColor = expression;
            document.body.append(probe);
            const colour = getComputedStyle(probe).backgroundColor;
            probe.remove();
            return colour;
        }""",
        expression,
    )


def test_schedule_again_has_the_admins_default_button_and_leaves_the_stream_link(page, make_event):
    event = make_event(
        title="Generating a Video", attendance_mode="hybrid", online_capacity=50, stream_url="https://zoom.us/j/111"
    )
    organizer("maria", "a long organizer passphrase", event.series)

    page.goto("/admin/")
    page.get_by_label("Username:").fill("maria")
    page.get_by_label("Password:").fill("a long organizer passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/events/event/")
    page.get_by_role("row", name="Generating a Video").get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option("duplicate")
    page.get_by_role("button", name="Run").click()

    button = page.get_by_role("button", name="Make the copy")
    expect(page.get_by_role("link", name="Generating a Video")).to_be_visible()  # the breadcrumbs lead back
    colour = button.evaluate("(button) => getComputedStyle(button).backgroundColor")
    assert colour == css_colour(page, "var(--default-button-bg)")
    assert colour != css_colour(page, "var(--delete-button-bg)")
    expect(page.get_by_label("Copy the link to join online")).not_to_be_checked()
    assert_accessible(page)
    button.click()

    done = "Draft copy made: complete it, give it its link to join online, and publish it."
    expect(page.get_by_text(done)).to_be_visible()
    assert Event.objects.exclude(pk=event.pk).get().stream_url == ""
